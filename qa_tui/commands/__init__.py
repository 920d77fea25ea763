"""Subcommands of `qa-tui`, one module each."""
