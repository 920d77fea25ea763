"""Sync screens: bundles, pulls and conflicts."""
