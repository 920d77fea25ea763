"""Period reports: monthly and quarterly figures, the focused reports, and their files (Markdown, HTML, CSV, XLSX)."""
