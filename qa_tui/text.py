"""Text from people and files made safe to show and store: control characters (which a terminal
would obey) and bidirectional overrides (which reorder what is shown) are made visible, and text
that would carry them into the database is refused with a message saying which and where."""

from __future__ import annotations

import re

# C0 controls other than tab and newline, DEL, the C1 controls, and lone surrogates (which no
# encoder can write).
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides and isolates
_SURROGATE = "\ud800-\udfff"
_UNSAFE = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}]")
_CONTROL_RE = re.compile(f"[{_CONTROL}]")

_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed",
          0x0D: "carriage return", 0x1B: "ESC", 0x7F: "DEL", 0x9B: "CSI"}


def visible(ch: str) -> str:
    """One unsafe character as text anyone can read: ␛ for ESC (the Unicode control pictures
    for C0 and DEL), <U+202E> for the rest."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def printable(text: object) -> str:
    """`text` with every control character other than newline and tab, every bidirectional
    override and every lone surrogate replaced by a visible stand-in; None is ""."""
    value = "" if text is None else str(text)
    return _UNSAFE.sub(lambda m: visible(m.group()), value) if _UNSAFE.search(value) else value


def describe(ch: str) -> str:
    """"ESC (U+001B)": a control character named for a message."""
    code = ord(ch)
    name = _NAMES.get(code)
    return f"{name} (U+{code:04X})" if name else f"U+{code:04X}"


def pasted(text: str) -> str:
    """Text pasted into a field: Windows and old Mac line ends made newlines, and every other
    control character made visible (a field shows what it holds, and the terminal obeys none)."""
    return printable(text.replace("\r\n", "\n").replace("\r", "\n"))


def control_problem(text: str) -> str | None:
    """Why `text` may not be stored (a control character other than newline and tab, with its
    position counted from 1), or None when it may."""
    found = _CONTROL_RE.search(text)
    if found is None:
        return None
    return (f"contains a control character, {describe(found.group())}, at character {found.start() + 1}; "
            f"only tab and new line are allowed")


def without_controls(text: str) -> str:
    """`text` with its control characters (other than newline and tab) removed."""
    return _CONTROL_RE.sub("", text)


def removed_note(text: str) -> str | None:
    """What `without_controls` takes out of `text`, said for an import's notes (None: nothing)."""
    found = dict.fromkeys(_CONTROL_RE.findall(text))
    if not found:
        return None
    names = ", ".join(describe(ch) for ch in found)
    return f"control character{'s' if len(found) > 1 else ''} {names} removed"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """"1 day", "2 days"; `many` for a noun that does not just take an s ("1 child", "2 children")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
