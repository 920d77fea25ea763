"""Charts made of text, readable on a projector at 100×30: sparklines, stacked and plain bars.
Labels are shown as typed (never read as markup)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from qa_tui.widgets.literal import literal

SPARKS = "▁▂▃▄▅▆▇█"
NO_VALUE = "·"


def sparkline(values: Sequence[float | None], top: float = 1.0, style: str = "", *, cell: int = 2,
              bottom: float = 0.0) -> Text:
    """`cell` characters per value (wide enough to read from the back of a room), from ▁
    (`bottom` or less) to █ (`top`); a value missing shows as ·."""
    span = (top - bottom) or 1
    chars = [NO_VALUE if v is None else SPARKS[max(0, min(len(SPARKS) - 1, round((v - bottom) / span * (len(SPARKS) - 1))))]
             for v in values]
    return literal("".join(c * cell for c in chars), style)


SHADES = "█▓▒░▚"  # one per part of a stacked bar, so the parts differ without colour too


def stacked_bar(counts: Sequence[int], largest: int, width: int, styles: Sequence[str]) -> Text:
    """A bar `width` wide at `largest`, one run per count in its own shade and colour (rounded,
    never below one cell for a count above nought)."""
    text = Text()
    for n, count in enumerate(counts):
        if count:
            cells = max(1, round(width * count / (largest or 1)))
            text.append(SHADES[n % len(SHADES)] * cells, style=styles[n % len(styles)])
    return text


def labelled(label: str, width: int) -> Text:
    """A label padded to `width` cells, or cut in the middle so that names differing only at
    the end ("… Team 1", "… Team 2") stay apart."""
    tail = max(1, width // 4)
    cell = literal(label if len(label) <= width else label[:width - tail - 1] + "…" + label[-tail:])
    cell.pad_right(width - cell.cell_len)
    return cell
