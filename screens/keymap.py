"""The user's own keys: the `[keys]` table of preferences.toml (binding id = "key"), checked
against every binding the app has and applied with Textual's keymap (`App.set_keymap`)."""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys

PACKAGES = ("screens", "qa_tui.widgets")  # where every screen's and widget's bindings are declared


@dataclass(frozen=True)
class CheckedKeymap:
    keymap: dict[str, str]  # what can be applied: binding id -> Textual's key names
    problems: tuple[str, ...]  # one line per entry left out, naming the file and the entry


def declared_bindings(extra: Iterable[tuple[type, Binding]] = ()) -> Iterator[tuple[type, Binding]]:
    """Every (class, binding) the app's screens and widgets declare, plus `extra` (the app's own).
    Imports every screen module, so it is only called when the user has a keymap (or in tests)."""
    yield from extra
    seen: set[type] = set()
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if cls in seen or cls.__module__ != module.__name__ or not issubclass(cls, DOMNode):
                    continue
                seen.add(cls)
                for binding in cls.__dict__.get("BINDINGS", ()):
                    if isinstance(binding, Binding):
                        yield cls, binding


def _is_key_name(key: str) -> bool:
    name = key.rsplit("+", 1)[-1] if len(key) > 1 else key
    if len(name) == 1 or name in KEY_NAMES:  # "O", "?", "f2", "pageup"
        return True
    try:
        unicodedata.lookup(name.replace("_", " "))  # "question_mark", "left_square_bracket"
    except KeyError:
        return False
    return True


KEY_NAMES = frozenset(key.value for key in Keys)


def check_keymap(keys: Sequence[tuple[str, str]], path: Path, bindings: Iterable[tuple[type, Binding]]) -> CheckedKeymap:
    """The entries that name a binding the app has and keys Textual knows, and that take no key
    another binding of the same screen keeps; the others are left out, each with a line saying
    which entry (by file and id) and why. (Textual would drop the other binding without a word.)"""
    declared = list(bindings)
    known = {binding.id for _cls, binding in declared if binding.id}
    keymap: dict[str, str] = {}
    problems = []
    for binding_id, typed in keys:
        where = f"{path}: keys.{binding_id}"
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; help (F1) shows each key's id"
            problems.append(f"{where}: no key has this id{hint}")
            continue
        unknown = [name for name in typed.split(",") if not _is_key_name(name)]
        if unknown:
            problems.append(f"{where}: {unknown[0]!r} is not a key Textual knows (try \"f2\", \"ctrl+o\" or \"O\")")
            continue
        keymap[binding_id] = typed  # Textual turns "?" into "question_mark" itself
    for binding_id, taken in _clashes(keymap, declared).items():
        del keymap[binding_id]
        problems.append(f"{path}: keys.{binding_id}: {taken}; left out")
    return CheckedKeymap(keymap, tuple(problems))


def _clashes(keymap: dict[str, str], declared: list[tuple[type, Binding]]) -> dict[str, str]:
    """id -> why, for each entry whose key another binding of the same class keeps."""
    found: dict[str, str] = {}
    by_class: dict[type, list[Binding]] = {}
    for cls, binding in declared:
        by_class.setdefault(cls, []).append(binding)
    for cls, class_bindings in by_class.items():
        kept = {key: b for b in class_bindings if b.id not in keymap for key in _keys(b.key)}
        for binding in class_bindings:
            taken = next((kept[key] for key in _keys(keymap.get(binding.id or "", "")) if key in kept), None)
            if taken is not None and binding.id not in found:
                found[binding.id] = (f"{keymap[binding.id]!r} is already {taken.description or taken.action} "
                                     f"({taken.id}) on {cls.__name__}")
    return found


def _keys(keys: str) -> list[str]:
    """Key names as Textual compares them: "?" is "question_mark"."""
    names = []
    for key in (k.strip() for k in keys.split(",") if k.strip()):
        if len(key) == 1 and not key.isalnum():
            try:
                key = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
            except ValueError:
                pass
        names.append(key)
    return names


def apply_saved_keymap(app: App[Any], keys: Sequence[tuple[str, str]], path: Path,
                       app_bindings: Iterable[tuple[type, Binding]]) -> CheckedKeymap:
    """At start-up: apply the user's [keys], saying (without stopping) which entries were left out."""
    checked = check_keymap(keys, path, declared_bindings(app_bindings))
    app.set_keymap(checked.keymap)
    if checked.problems:
        app.notify("\n".join(checked.problems), title="Your keys", severity="warning", timeout=20, markup=False)
    return checked
