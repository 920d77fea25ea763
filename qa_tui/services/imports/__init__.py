"""Caseload and staff imports: the caseload core every import shares, Annex A workbooks, CSV extracts and spreadsheet reading."""
