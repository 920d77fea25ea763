"""Why the draw picked these cases: the rules recorded with it, each worker's pool size, the
original pick beside the case now drawn, and below, for the highlighted worker, the eligible cases
and every re-draw with its reason in full and who asked for it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from qa_tui.widgets.literal import literal
from screens.table_detail import TableDetailScreen

if TYPE_CHECKING:
    from qa_tui.services.audits.draw_explained import DrawExplanation, WorkerDraw

POOL_SHOWN = 30  # eligible references listed for one worker before "… and N more"


def worker_cells(w: WorkerDraw) -> tuple[str, ...]:
    original, current = w.original, w.current
    redraws = len(w.picks) - 1
    return (w.worker_name, w.role, str(len(w.pool)), original.case_reference if original else "—",
            current.case_reference if current and redraws else ("same" if current else "—"),
            f"{redraws} re-draw{'s' if redraws != 1 else ''}" if redraws else (w.empty_reason or ""))


def worker_detail(w: WorkerDraw) -> Text:
    """The highlighted worker's pool and every pick, in full and as typed."""
    shown = ", ".join(w.pool[:POOL_SHOWN]) + (f" … and {len(w.pool) - POOL_SHOWN} more" if len(w.pool) > POOL_SHOWN
                                              else "")
    text = Text.assemble(literal(f"{w.worker_name} ({w.staff_id}, {w.role_name})", "bold"),
                         literal(f" · {len(w.pool)} eligible case{'s' if len(w.pool) != 1 else ''}: "),
                         literal(shown or f"none — {w.empty_reason}"))
    for pick in w.picks:
        if pick.round == 0:
            text.append_text(Text.assemble("\n", ("Original pick: ", "bold"), literal(pick.case_reference)))
        else:
            text.append_text(Text.assemble(
                "\n", literal(f"Re-draw {pick.round}: ", "bold"), literal(pick.case_reference),
                literal(f" — asked by {pick.requested_by or 'unknown'}: "), literal(pick.reason, "italic")))
    return text


class DrawExplanationScreen(TableDetailScreen["WorkerDraw"]):
    DEFAULT_CSS = """
    DrawExplanationScreen #draw-rules { height: auto; padding: 0 1; color: $text-muted; }
    """
    COLUMNS = ("Worker", "Role", "Pool", "Original pick", "Now", "Re-drawn / why empty")
    BINDINGS = [Binding("escape,i", "app.pop_screen", "Back", id="draw-explained-back", tooltip="Back to the draw")]

    def __init__(self, draw_id: uuid.UUID, worker_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.draw_id = draw_id
        self.worker_id = worker_id

    def cells(self, row: WorkerDraw) -> tuple[str, ...]:
        return worker_cells(row)

    def row_key(self, row: WorkerDraw) -> object:
        return row.worker_id

    def detail(self, row: WorkerDraw) -> Text:
        return worker_detail(row)

    def above_table(self) -> Sequence[Widget]:
        return (Static("", id="draw-rules"),)

    def on_mount(self) -> None:
        from qa_tui.services.audits.draw_explained import explain_draw

        draw_id = self.draw_id
        self.load(lambda s: explain_draw(s, draw_id), self.show)

    def show(self, d: DrawExplanation) -> None:
        self.query_one("#draw-rules", Static).update(literal("\n".join(f"• {r}" for r in d.rules)))
        self.show_rows(Text.assemble(literal(f"Draw for {d.month}", "bold"),
                                     literal(f" · drawn {d.drawn_on:%-d %b %Y} by {d.drawn_by}"),
                                     literal(f" · seed {d.seed} · {d.algorithm}")),
                       d.workers, select=lambda w: w.worker_id == self.worker_id)
