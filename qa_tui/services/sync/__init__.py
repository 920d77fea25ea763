"""Offline sync: pull onto a laptop, bundles, import with conflicts, receipts."""
