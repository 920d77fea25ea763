"""qa-tui: quality assurance for children's social care teams, in the terminal."""

__version__ = "0.1.0"
