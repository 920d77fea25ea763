"""Reading TOML files strictly: one error type naming file, key and what was expected, and typed
access to a table that refuses unknown keys. The config file and the preferences file both use it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration file or value that cannot be used; the message says where and why."""

    def __init__(self, path: Path | str | None, key: str | None, problem: str) -> None:
        self.path = str(path) if path else None
        self.key = key
        self.problem = problem
        where = self.path or "configuration"
        if key:
            where = f"{where}: [{key}]" if "." not in key else f"{where}: {key}"
        super().__init__(f"{where}: {problem}")


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; a file that cannot be read or parsed raises ConfigError."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(path, None, "cannot be used: its arrays or tables are nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML (not UTF-8 text at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot be read ({exc.strerror})") from None


class TableReader:
    """Typed access to one table of the raw TOML, with errors naming the key."""

    def __init__(self, raw: dict[str, Any], path: Path | None, prefix: str) -> None:
        self.raw, self.path, self.prefix = raw, path, prefix
        self.known: set[str] = set()

    def _fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, f"{self.prefix}.{key}" if self.prefix else key, problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        self.known.add(key)
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) and kind in (int, (int,)):
            raise self._fail(key, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self._fail(key, f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    def int_between(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key, int, default, f"a whole number from {low} to {high}")
        if not low <= value <= high:
            raise self._fail(key, f"expected a whole number from {low} to {high}, got {value}")
        return value

    def strings(self, key: str, default: tuple[str, ...], *, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, list, list(default), "a list of strings")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self._fail(key, "expected a list of non-empty strings")
        if allowed:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise self._fail(key, f"unknown value {bad[0]!r}; expected one of {', '.join(allowed)}")
        return tuple(value)

    def table(self, key: str) -> TableReader:
        value = self.get(key, dict, {}, "a table")
        return TableReader(value, self.path, f"{self.prefix}.{key}" if self.prefix else key)

    def check_unknown(self) -> None:
        for key in self.raw:
            if key not in self.known:
                raise self._fail(key, "unknown key (see config.example.toml for the keys that exist)")
