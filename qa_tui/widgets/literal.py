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
    `Text` or `Content` keeps its styles when it holds nothing unsafe, and is made safe when it
    does."""
    if isinstance(value, Content):
        safe = printable(value.plain)
        return value if safe == value.plain else Content(safe)
    if isinstance(value, Text):
        safe = printable(value.plain)
        return value if safe == value.plain else Text(safe, style=value.style)
    return Text(printable(value), style=style)


def literal_markup(template: str, **values: object) -> Content:
    """A markup template written in the code (`"[b]$name[/b] · $team"`) with each `$name`
    replaced by its value shown literally. The template is ours; the values are never markup."""
    return Content.from_markup(template, **{name: printable(value) for name, value in values.items()})
