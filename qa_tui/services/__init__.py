"""Business rules as plain functions over a session; no Textual here."""
