"""Build Annex A workbooks in tests: .xlsx with openpyxl, .ods with odfpy, and legacy .xls with
a minimal BIFF8-in-OLE2 writer (xlwt is not installed), all from the same rows."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

Rows = Sequence[Sequence[Any]]
Sheets = Sequence[tuple[str, Rows]]

# Put into every column the importer must never store; tests scan the database for them.
SENTINEL = "ZZSENTINEL"
SENTINEL_DOB = date(2011, 3, 17)

LIST_LAYOUT = {
    6: (("ref", "Child Unique ID"), ("gender", "Gender"), ("ethnicity", "Ethnicity"), ("dob", "Date of Birth"),
        ("age", "Age of Child (Years)"), ("start", "CIN Start Date"), ("need", "Primary Need Code"),
        ("end", "CIN Closure Date"), ("team", "Allocated Team"), ("worker", "Allocated Worker")),
    7: (("ref", "Child Unique ID"), ("gender", "Gender"), ("ethnicity", "Ethnicity"), ("dob", "Date of Birth"),
        ("start", "Child Protection Plan Start Date"), ("abuse", "Initial Category of Abuse"),
        ("end", "Child Protection Plan End Date"), ("team", "Allocated Team"), ("worker", "Allocated Worker")),
    8: (("ref", "Child Unique ID"), ("gender", "Gender"), ("ethnicity", "Ethnicity"), ("dob", "Date of Birth"),
        ("start", "Date Started to be Looked After"), ("postcode", "Placement postcode"),
        ("end", "Date Ceased to be Looked After"), ("reason", "Reason Ceased to be Looked After"),
        ("team", "Allocated Team"), ("worker", "Allocated Worker")),
    9: (("ref", "Child Unique ID"), ("gender", "Gender"), ("ethnicity", "Ethnicity"), ("dob", "Date of Birth"),
        ("team", "Allocated Team"), ("worker", "Allocated Worker"), ("pa", "Allocated Personal Advisor"),
        ("postcode", "Postcode")),
}
DATA_KEYS = {"ref", "start", "end", "team", "worker"}


class ExcelError(str):
    """A cell holding an Excel error such as #N/A (an error cell in .xls, not text)."""


def list_rows(number: int, children: Sequence[dict[str, Any]], *, headers: dict[str, str] | None = None,
              title_rows: Sequence[Sequence[Any]] = (), extra_column: str | None = None) -> list[list[Any]]:
    """A list sheet's rows in the layout of the Ofsted template: optional title rows, the header,
    then one row per child dict (keys: ref, start, end, team, worker; others get sentinels)."""
    layout = LIST_LAYOUT[number]
    header = [(headers or {}).get(key, text) for key, text in layout]
    if extra_column:
        header.append(extra_column)
    rows: list[list[Any]] = [list(r) for r in title_rows] + [header]
    for child in children:
        row = [child.get(key) if key in DATA_KEYS else child.get(key, _sentinel(key)) for key, _ in layout]
        if extra_column:
            row.append(f"{SENTINEL}-extra")
        rows.append(row)
    return rows


def _sentinel(key: str) -> Any:
    return SENTINEL_DOB if key == "dob" else f"{SENTINEL}-{key}"


def write_workbook(path: Path, sheets: Sheets) -> Path:
    """Write by the extension of `path`: .xlsx, .ods or .xls."""
    writer = {".xlsx": write_xlsx, ".ods": write_ods, ".xls": write_xls}[path.suffix]
    writer(path, sheets)
    return path


def write_xlsx(path: Path, sheets: Sheets) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append([str(v) if isinstance(v, ExcelError) else v for v in row])
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = "DD/MM/YYYY"
    book.save(path)


def write_ods(path: Path, sheets: Sheets) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in sheets:
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if value is None:
                    cell = TableCell()
                elif isinstance(value, date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                    cell.addElement(P(text=f"{value:%d/%m/%Y}"))
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            # Spreadsheet programs pad each row and the sheet with huge repeated blank runs.
            table_row.addElement(TableCell(numbercolumnsrepeated=16000))
            table.addElement(table_row)
        padding = TableRow(numberrowsrepeated=1_048_000)
        padding.addElement(TableCell(numbercolumnsrepeated=1024))
        table.addElement(padding)
        document.spreadsheet.addElement(table)
    document.save(str(path))


# --- legacy .xls: BIFF8 records in an OLE2 compound file ------------------------------------

_OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_END_OF_CHAIN, _FREE, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
_DATE_XF = 1
_ERROR_CODES = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D,
                "#NUM!": 0x24, "#N/A": 0x2A}


def _record(code: int, data: bytes) -> bytes:
    return struct.pack("<HH", code, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def _xf(format_key: int) -> bytes:
    return _record(0x00E0, struct.pack("<HHHBBBBIIH", 0, format_key, 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0))


def _unicode(text: str, length_bytes: int) -> bytes:
    return struct.pack("<B" if length_bytes == 1 else "<H", len(text)) + b"\x01" + text.encode("utf-16-le")


def _cell(row: int, col: int, value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, ExcelError):
        return _record(0x0205, struct.pack("<HHHBB", row, col, 0, _ERROR_CODES[str(value)], 1))
    if isinstance(value, date):
        serial = (value - date(1899, 12, 30)).days
        return _record(0x0203, struct.pack("<HHHd", row, col, _DATE_XF, float(serial)))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _record(0x0203, struct.pack("<HHHd", row, col, 0, float(value)))
    return _record(0x0204, struct.pack("<HHH", row, col, 0) + _unicode(str(value), 2))


def _biff8(sheets: Sheets) -> bytes:
    font = _record(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _unicode("Arial", 1))
    head = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + font + _xf(0) + _xf(14)  # 14: d/m/yy
    bodies = []
    for _, rows in sheets:
        cells = b"".join(_cell(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row))
        bodies.append(_bof(0x0010) + cells + _record(0x000A, b""))
    offset = len(head) + sum(4 + 6 + len(_unicode(name, 1)) for name, _ in sheets) + 4
    bound = b""
    for (name, _), body in zip(sheets, bodies):
        bound += _record(0x0085, struct.pack("<IBB", offset, 0, 0) + _unicode(name, 1))
        offset += len(body)
    return head + bound + _record(0x000A, b"") + b"".join(bodies)


def _ole2(stream: bytes) -> bytes:
    """One FAT sector, the stream (at least 4096 bytes, so not in the mini stream), one directory sector."""
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")
    sectors = len(stream) // 512
    if sectors + 2 > 128:
        raise ValueError("fixture too large for a one-sector FAT")
    fat = [_FAT_SECTOR] + [i + 2 for i in range(sectors - 1)] + [_END_OF_CHAIN, _END_OF_CHAIN]
    fat += [_FREE] * (128 - len(fat))
    header = _OLE2_SIGNATURE + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<9I", 0, 1, 1 + sectors, 0, 4096, _END_OF_CHAIN, 0, _END_OF_CHAIN, 0)
    header += struct.pack("<109I", 0, *([_FREE] * 108))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, _NO_STREAM, _NO_STREAM, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    unused = b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, _NO_STREAM, _NO_STREAM, _NO_STREAM) + b"\0" * 48
    directory = entry("Root Entry", 5, 1, _END_OF_CHAIN, 0) + entry("Workbook", 2, _NO_STREAM, 1, len(stream))
    return header + struct.pack("<128I", *fat) + stream + directory + unused * 2


def write_xls(path: Path, sheets: Sheets) -> None:
    path.write_bytes(_ole2(_biff8(sheets)))
