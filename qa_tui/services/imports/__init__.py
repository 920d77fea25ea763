"""Caseload and staff imports. `kinds` is the way in: one preview (`preview`) for every kind of
file, then its write step. Behind it: Annex A workbooks (`annex_a`), the involvements and SSDA903
CSV extracts (`caseload_csv`), the caseload core they share (`caseload`), the people and cases
CSV files (`people_cases`, reading them in `csv_rows`) and spreadsheet reading (`workbook`)."""
