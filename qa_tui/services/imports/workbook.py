"""Read spreadsheet workbooks (.xlsx, .xls, .ods) as sheets of plain cell values, and turn the
cells councils fill in by hand (dates, names, placeholders) into clean values."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from qa_tui.errors import ValidationError
from qa_tui.text import without_controls

CellValue = str | int | float | bool | date | None

OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# A password-protected .xlsx is an OLE2 file holding this stream instead of a zip.
ENCRYPTED_MARKER = "EncryptedPackage".encode("utf-16-le")
# ODS files pad sheets with huge runs of repeated empty cells; real cells never repeat this much.
MAX_REPEAT = 1024
EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers outside this range are not caseload dates (and are probably not dates at all).
EARLIEST_DATE = date(1950, 1, 1)
LATEST_DATE = date(2100, 12, 31)

# What people type where a value is missing, after `placeholder_key` (punctuation stripped).
PLACEHOLDERS = frozenset({
    "", "na", "nk", "none", "null", "nil", "tbc", "tba", "tbd", "unallocated", "not allocated",
    "unassigned", "not assigned", "unknown", "not known", "vacant", "awaiting allocation",
    "no worker", "no allocated worker", "no team", "0", "ref", "value", "name", "div0", "num",
})


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: tuple[tuple[CellValue, ...], ...]  # row 1 of the sheet is rows[0]; trailing blanks trimmed


@dataclass(frozen=True)
class Workbook:
    source: str
    kind: str  # "xlsx", "xls" or "ods"
    sheets: tuple[Sheet, ...]


def read_workbook(path: Path, want_sheet: Callable[[str], bool] = lambda name: True) -> Workbook:
    """Every worksheet whose name `want_sheet` accepts, whatever the file's extension says.

    Cells come back as str, int, float, bool, `date` (for cells the file marks as dates) or None.
    Raises ValidationError naming the file when it cannot be read."""
    source = str(path)
    kind = sniff_kind(path)
    try:
        if kind == "xlsx":
            sheets = _read_xlsx(path, want_sheet)
        elif kind == "xls":
            sheets = _read_xls(path, want_sheet)
        else:
            sheets = _read_ods(path, want_sheet)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - each library raises its own kinds for a damaged file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ValidationError(source, f"cannot be read as an .{kind} workbook ({detail})") from None
    return Workbook(source, kind, tuple(sheets))


def sniff_kind(path: Path) -> str:
    """"xlsx", "xls" or "ods" from the file's content (councils rename files freely)."""
    source = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise ValidationError(source, "no such file") from None
    except IsADirectoryError:
        raise ValidationError(source, "is a folder, not a workbook file") from None
    except OSError as exc:
        raise ValidationError(source, f"cannot be opened ({exc.strerror})") from None
    if head == OLE2_SIGNATURE:
        if ENCRYPTED_MARKER in path.read_bytes():
            raise ValidationError(source, "is password-protected; save a copy without a password and import that")
        return "xls"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                    return "ods"
                if "xl/workbook.xml" in names:
                    return "xlsx"
        except Exception:  # noqa: BLE001 - a damaged zip raises BadZipFile, OSError, EOFError, zlib.error...
            raise ValidationError(source, "is a damaged zip file, not a readable workbook") from None
        raise ValidationError(source, "is a zip file but not an .xlsx or .ods workbook")
    raise ValidationError(source, "is not a workbook (expected .xlsx, .xls or .ods; save CSV files as a workbook)")


def _trimmed(values: list[CellValue]) -> tuple[CellValue, ...]:
    end = len(values)
    while end and is_blank(values[end - 1]):
        end -= 1
    return tuple(values[:end])


def _finish(name: str, rows: list[tuple[CellValue, ...]]) -> Sheet:
    while rows and not rows[-1]:
        rows.pop()
    return Sheet(name, tuple(rows))


def _read_xlsx(path: Path, want_sheet: Callable[[str], bool]) -> list[Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = []
        for sheet in book.worksheets:
            if not want_sheet(sheet.title):
                continue
            rows = [_trimmed([_plain_xlsx(v) for v in row]) for row in sheet.iter_rows(values_only=True)]
            sheets.append(_finish(sheet.title, rows))
        return sheets
    finally:
        book.close()


def _plain_xlsx(value: object) -> CellValue:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (time, timedelta)):
        return str(value)
    return value  # type: ignore[return-value]


def _read_xls(path: Path, want_sheet: Callable[[str], bool]) -> list[Sheet]:
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        sheets = []
        for name in book.sheet_names():
            if not want_sheet(name):
                continue
            sheet = book.sheet_by_name(name)
            rows = [_trimmed([_plain_xls(cell, book.datemode) for cell in sheet.row(r)])
                    for r in range(sheet.nrows)]
            sheets.append(_finish(name, rows))
            book.unload_sheet(name)
        return sheets
    finally:
        book.release_resources()


def _plain_xls(cell: object, datemode: int) -> CellValue:
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate_as_datetime(value, datemode).date()
        except (ValueError, OverflowError):
            return value
    if kind == xlrd.XL_CELL_NUMBER:
        return int(value) if float(value).is_integer() else value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return value


def _read_ods(path: Path, want_sheet: Callable[[str], bool]) -> list[Sheet]:
    from odf.namespaces import TABLENS
    from odf.opendocument import load
    from odf.table import Table, TableRow

    document = load(str(path))
    sheets = []
    for table in document.spreadsheet.getElementsByType(Table):
        name = table.getAttribute("name") or ""
        if not want_sheet(name):
            continue
        rows: list[tuple[CellValue, ...]] = []
        pending_blank_rows = 0
        for row in table.getElementsByType(TableRow):
            values = _ods_row(row, TABLENS)
            repeat = int(row.getAttrNS(TABLENS, "number-rows-repeated") or 1)
            if not values:
                pending_blank_rows += repeat
                continue
            rows.extend([()] * pending_blank_rows)
            pending_blank_rows = 0
            rows.extend([values] * min(repeat, MAX_REPEAT))
        sheets.append(_finish(name, rows))
    return sheets


def _ods_row(row: object, tablens: str) -> tuple[CellValue, ...]:
    values: list[CellValue] = []
    pending_blanks = 0
    for cell in row.childNodes:  # type: ignore[attr-defined]
        if cell.qname not in ((tablens, "table-cell"), (tablens, "covered-table-cell")):
            continue
        repeat = int(cell.getAttrNS(tablens, "number-columns-repeated") or 1)
        value = _ods_cell(cell)
        if is_blank(value):
            pending_blanks += repeat
            continue
        values.extend([None] * pending_blanks)
        pending_blanks = 0
        values.extend([value] * min(repeat, MAX_REPEAT))
    return tuple(values)


def _ods_cell(cell: object) -> CellValue:
    from odf import teletype
    from odf.namespaces import OFFICENS

    get = cell.getAttrNS  # type: ignore[attr-defined]
    kind = get(OFFICENS, "value-type")
    if kind in ("float", "percentage", "currency"):
        number = float(get(OFFICENS, "value"))
        return int(number) if number.is_integer() else number
    if kind == "date":
        return date.fromisoformat(get(OFFICENS, "date-value")[:10])
    if kind == "boolean":
        return get(OFFICENS, "boolean-value") == "true"
    paragraphs = [teletype.extractText(p) for p in cell.childNodes  # type: ignore[attr-defined]
                  if p.qname[1] == "p"]
    text = "\n".join(paragraphs)
    return text or None


# --- cell values --------------------------------------------------------------------------


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def clean_text(value: CellValue) -> str:
    """The cell as text, with non-breaking and other odd spaces made plain and runs collapsed, and
    control characters (a NUL, an ESC) removed: `removed_note` says what an import took out."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", without_controls(str(value)))
    return " ".join(text.replace("\u200b", "").split())


def placeholder_key(value: CellValue) -> str:
    """Lower-case text with punctuation dropped: "#N/A" → "na", " - " → ""."""
    kept = [ch for ch in clean_text(value).casefold()
            if not unicodedata.category(ch).startswith(("P", "S"))]
    return " ".join("".join(kept).split())


def header_key(value: CellValue) -> str:
    """A header as compared: lower case, spaces collapsed, '_', '-' and '/' as spaces, other
    punctuation dropped ("Child's  Unique ID " → "childs unique id")."""
    text = re.sub(r"[_\-/\\]", " ", clean_text(value))
    return placeholder_key(text)


def is_placeholder(value: CellValue) -> bool:
    """Blank, an Excel error, or a stand-in such as "Unallocated", "N/A", "-" or "TBC"."""
    return placeholder_key(value) in PLACEHOLDERS


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[-/. ]+([a-z]+)\.?[-/., ]+(\d{2}|\d{4})")
_TIME_SUFFIX = re.compile(r"[ t]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_MONTHS = {name: number for number, names in enumerate((
    (), ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"),
)) for name in names}


def cell_date(value: CellValue) -> date | None:
    """A date from a cell: a real date, an Excel serial number, or UK day-first text.

    Text is read day first (05/04/2021 is 5 April), never month first. Blank and placeholder
    cells give None. Anything else raises ValueError with a message fit for the user."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return _serial_date(value)
    if is_placeholder(value):
        return None
    text = clean_text(value).casefold()
    text = _TIME_SUFFIX.sub("", text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _serial_date(float(text))
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
        year = _full_year(year, match.group(3))
    elif (match := _DAY_MONTH_NAME.fullmatch(text)) and match.group(2) in _MONTHS:
        day, month = int(match.group(1)), _MONTHS[match.group(2)]
        year = _full_year(int(match.group(3)), match.group(3))
    else:
        raise ValueError(f"{clean_text(value)!r} is not a date (expected day/month/year)")
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise ValueError(f"{clean_text(value)!r} is not a valid date (day/month/year)") from None
    return _in_range(parsed, clean_text(value))


def _full_year(year: int, digits: str) -> int:
    if len(digits) == 4:
        return year
    return 2000 + year if year < 70 else 1900 + year


def _serial_date(number: float) -> date:
    try:
        parsed = EXCEL_EPOCH + timedelta(days=int(number))
    except OverflowError:
        raise ValueError(f"{number:g} is not a date") from None
    return _in_range(parsed, f"{number:g}")


def _in_range(parsed: date, shown: str) -> date:
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueError(f"{shown!r} is not a plausible date ({parsed:%d/%m/%Y})")
    return parsed
