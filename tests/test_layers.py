"""The layers point one way: screens → widgets → services → db → config. Checked on the source
(imports in every file) and at run time (importing the core loads no Textual)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ["qa_tui/services", "qa_tui/db", "qa_tui/config", "qa_tui/config_file.py", "qa_tui/dates.py",
        "qa_tui/errors.py", "qa_tui/identity.py", "qa_tui/context.py", "qa_tui/demo"]
ALLOWED_SQLALCHEMY_IN_SCREENS = {"sqlalchemy.exc", "sqlalchemy.orm.exc"}


def python_files(*parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = ROOT / part
        if path.is_dir():
            files += sorted(path.rglob("*.py"))
        elif path.exists():
            files.append(path)
    return files


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(module, only under TYPE_CHECKING) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                guarded.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in guarded) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in guarded))
    return found


@pytest.mark.parametrize("path", python_files(*CORE), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_textual_or_screens(path: Path) -> None:
    for module, _ in imports_of(path):
        root = module.split(".")[0]
        assert root not in {"textual", "screens", "rich"}, f"{path.name} imports {module}"
        assert module not in {"qa_tui.app", "qa_tui.widgets"} and not module.startswith("qa_tui.widgets."), module


@pytest.mark.parametrize("path", python_files("screens", "qa_tui/widgets"), ids=lambda p: str(p.relative_to(ROOT)))
def test_screens_hold_no_sql_and_no_app_import(path: Path) -> None:
    for module, type_only in imports_of(path):
        if module.startswith("sqlalchemy") and not type_only:
            assert module in ALLOWED_SQLALCHEMY_IN_SCREENS, f"{path.name} imports {module}: SQL belongs in services"
        if module.startswith("qa_tui.db") and not type_only:
            pytest.fail(f"{path.name} imports {module}: screens reach storage only through services")
        if module == "qa_tui.app":
            assert type_only, f"{path.name} imports the app class outside TYPE_CHECKING"


def test_importing_every_service_loads_no_textual() -> None:
    modules = [p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
               for p in python_files(*CORE) if "migrations" not in p.parts]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'screens')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_building_the_command_line_imports_no_database_or_ui_code() -> None:
    """Start-up cost: `qa-tui --help` and the path to the first frame stay light."""
    code = ("import sys\nfrom qa_tui.cli import build_parser\nbuild_parser()\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'textual', 'psycopg', 'openpyxl'})\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
