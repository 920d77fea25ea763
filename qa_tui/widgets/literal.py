"""The one way text from people and files reaches the screen: `literal(value)` is a Rich `Text`
that is never read as markup and carries no terminal control character; `literal_markup` fills
the `$name` places of a markup template written in the code with such values."""

from __future__ import annotations

from typing import overload

from rich.style import StyleType
from rich.text import Text
from textual.content import Content

from qa_tui.text import printable


@overload
def literal(value: Content, style: StyleType = "") -> Content: ...


@overload
def literal(value: object, style: StyleType = "") -> Text: ...


def literal(value: object, style: StyleType = "") -> Text | Content:
    """`value` shown exactly as typed, in `style`: brackets stay brackets, ESC shows as ␛. A
    `Text` or `Content` is made safe the same way, keeping its styles (those of its spans too,
    unless a character had to become a longer stand-in such as <U+202E>)."""
    if isinstance(value, Content):
        safe = printable(value.plain)
        if safe == value.plain:
            return value
        return Content(safe, value.spans if len(safe) == len(value.plain) else None)
    if isinstance(value, Text):
        safe = printable(value.plain)
        if safe == value.plain:
            return value
        shown = value.copy()
        if len(safe) != len(value.plain):  # a stand-in longer than its character: the spans no longer fit
            shown.spans = []
        shown.plain = safe
        return shown
    return Text(printable(value), style=style)


def literal_clipped(value: object, width: int, style: StyleType = "") -> Text:
    """`literal(value)` on one line of at most `width` cells, ending in … when cut."""
    shown = literal(value, style).copy()
    shown.truncate(max(1, width), overflow="ellipsis")
    return shown


def literal_markup(template: str, **values: object) -> Content:
    """A markup template written in the code (`"[b]$name[/b] · $team"`) with each `$name`
    replaced by its value shown literally. The template is ours; the values are never markup."""
    return Content.from_markup(template, **{name: printable(value) for name, value in values.items()})
