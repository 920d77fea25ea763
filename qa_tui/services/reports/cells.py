"""The one rule for a value written into a spreadsheet cell, for every CSV and XLSX export, so a
file opens in Excel or Power BI as data and never as something that runs:

- text that a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or a carriage
  return) is neutralised: in CSV it gets a leading single quote (the OWASP practice); in XLSX it
  is written as a string cell, marked to stay text if someone edits it. A plain number written as
  text ("-2", "0.4545") is not a formula and is left alone;
- control characters (which openpyxl refuses, and a terminal would obey) are made visible, so no
  character stops an export;
- numbers are numbers; dates are ISO text (2026-10-31) in CSV and date cells in XLSX.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qa_tui.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def starts_like_a_formula(text: str) -> bool:
    """Whether a spreadsheet could take `text` for a formula (a plain negative number aside)."""
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def cell_text(value: object) -> str:
    """A text value with every control character made visible (so nothing is refused or obeyed)."""
    return printable(value)


def csv_value(value: Any) -> Any:
    """What the CSV writer is given for `value`."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = cell_text(value)
    return "'" + text if starts_like_a_formula(text) else text


def csv_row(values: Any) -> list[Any]:
    return [csv_value(v) for v in values]


def xlsx_value(sheet: Any, value: Any) -> Any:
    """What a write-only openpyxl sheet is given for `value`: a plain value, or a cell whose type
    and format are set here (openpyxl would take "=..." for a formula)."""
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, (date, datetime)):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATETIME_FORMAT if isinstance(value, datetime) else XLSX_DATE_FORMAT
        return cell
    text = cell_text(value)
    if not starts_like_a_formula(text):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    cell.quotePrefix = True  # stays text when edited in Excel
    return cell


def xlsx_row(sheet: Any, values: Any) -> list[Any]:
    return [xlsx_value(sheet, v) for v in values]
