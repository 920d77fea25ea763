"""People, teams and cases: lookups, editing by hand, and retention."""
