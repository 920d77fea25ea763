"""The house rules, deny by default, checked on every module of `qa_tui` and `screens`:
the layer contract in pyproject.toml (import-linter), every module placed in a layer, no private
names imported across modules, no import cycles, no service code in screens, no module over 500
lines, and at run time the core loads no Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("qa_tui", "screens")
MAX_LINES = 500
UI_LAYERS = {"qa_tui.__main__", "qa_tui.cli", "qa_tui.commands", "qa_tui.app", "screens", "qa_tui.widgets"}
ALLOWED_SQLALCHEMY_IN_SCREENS = {"sqlalchemy.exc", "sqlalchemy.orm.exc"}


def module_name(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")


def source_files() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]


MODULES = {module_name(p): p for p in source_files()}


def resolve(name: str) -> str | None:
    """The project module an import names (a `from x import y` may name module x.y or a name in x)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def type_checking_nodes(tree: ast.AST) -> set[int]:
    return {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)}


def imports_of(path: Path) -> list[tuple[str, list[str], int, bool]]:
    """(module, names imported from it, line, only under TYPE_CHECKING) for every absolute import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = type_checking_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno, id(node) in guarded) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names], node.lineno, id(node) in guarded))
    return found


def layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[part.strip() for part in layer.replace(":", "|").split("|")] for layer in contract["layers"]]


def test_the_import_contracts_hold() -> None:
    """Layers, no Textual below the screens, no storage from screens, no cycles between screen packages."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_every_module_sits_in_a_layer() -> None:
    """Deny by default: a new module outside every layer would escape the contract."""
    placed = [name for layer in layers() for name in layer]
    outside = [m for m in MODULES if m not in PACKAGES
               and not any(m == p or m.startswith(p + ".") for p in placed)]
    assert not outside, f"modules in no layer of pyproject.toml's contract: {outside}"


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for name, path in MODULES.items():
        for module, names, line, _ in imports_of(path):
            if not module.startswith(PACKAGES) or resolve(module) == name:
                continue
            private = [n for n in [module.rpartition(".")[2], *names] if n.startswith("_") and not n.startswith("__")]
            if private:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}: {', '.join(private)}")
    assert not found, "\n".join(found)


def test_no_import_cycles() -> None:
    """Function-local imports count; imports only for type checking do not."""
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for module, names, _, type_only in imports_of(path):
            if type_only or not module.startswith(PACKAGES):
                continue
            for target in {resolve(module), *(resolve(f"{module}.{n}") for n in names)}:
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [node, nxt]) if nxt in trail else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, trail + [node])
        state[node] = "done"

    for node in sorted(MODULES):
        if node not in state:
            visit(node, [])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what it holds"


def test_screens_define_no_service_code() -> None:
    """A function taking a database session is a service: it belongs in qa_tui/services."""
    found = []
    for name, path in MODULES.items():
        if not name.startswith(("screens", "qa_tui.widgets")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    a.arg == "session" for a in node.args.args + node.args.kwonlyargs):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}(session, …)")
    assert not found, "\n".join(found)


def test_screens_hold_no_sql() -> None:
    found = []
    for name, path in MODULES.items():
        if not name.startswith(("screens", "qa_tui.widgets")):
            continue
        for module, _, line, type_only in imports_of(path):
            if module.startswith("sqlalchemy") and not type_only and module not in ALLOWED_SQLALCHEMY_IN_SCREENS:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}: SQL belongs in services")
    assert not found, "\n".join(found)


def test_importing_the_core_loads_no_textual() -> None:
    core = [m for m in MODULES if not any(m == u or m.startswith(u + ".") for u in UI_LAYERS) and m not in PACKAGES]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in core)
            + "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'screens')]\n"
            + "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_building_the_command_line_imports_no_database_or_ui_code() -> None:
    """Start-up cost: `qa-tui --help` and the path to the first frame stay light."""
    code = ("import sys\nfrom qa_tui.cli import build_parser\nbuild_parser()\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'textual', 'psycopg', 'openpyxl'})\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
