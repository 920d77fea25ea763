"""Storage: SQLAlchemy models, engines and migrations. No Textual here."""
