"""`qa-tui import KIND FILE`: bring people and caseloads in from files councils already have.

Each importer module adds its own verb under `import` through `register_verb(verbs)`.
"""

from __future__ import annotations

import argparse
import importlib

IMPORTER_MODULES = (
    "qa_tui.commands.import_csv",
    "qa_tui.commands.import_annex_a",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("import", help="import people or cases from a file")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="KIND")
    for name in IMPORTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register_verb(verbs)
