"""Administration screens: teams, people and cases, imports and settings."""
