"""Offline sync: pull onto a laptop, export its changes, bundles, import with conflicts, conflict decisions, receipts."""
