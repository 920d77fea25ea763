"""When someone else saved the same observation meanwhile: each field both changed, side by side,
to keep one's own, take theirs, or merge (a mixin of the observation form)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.widgets import Input, TextArea

from qa_tui.text import printable

if TYPE_CHECKING:
    from qa_tui.services.practice.observations import ObservationView

FIELD_LABELS = {
    "worker": "Worker", "observer": "Observer", "observed_on": "Date observed", "kind": "Kind",
    "setting": "Setting", "feedback_shared": "Feedback shared", "themes": "Themes",
    "went_well": "What went well", "to_develop": "What to develop", "reflection": "Worker's reflection",
}
TEXT_AREAS = ("went_well", "to_develop", "reflection")
SAVED_FIELDS = ("observed_on", "kind", "setting", "feedback_shared", "themes", *TEXT_AREAS)
MERGED_WITH = {"setting": " / "}  # both versions in one line; the text areas take a blank line between


def as_shown(obs: ObservationView) -> ObservationView:
    """The observation as its fields show it: control characters made visible (and saved so
    once edited), so what is compared with the fields is what they hold."""
    return replace(obs, setting=printable(obs.setting), themes=tuple(printable(t) for t in obs.themes),
                   **{field: printable(getattr(obs, field)) for field in TEXT_AREAS})


def short_date(day: date | None) -> str:
    return f"{day:%-d %b %Y}" if day else "—"


def shown(value: Any) -> str:
    """A field's value in words, for the two versions side by side."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return short_date(value)
    return ", ".join(value) if isinstance(value, tuple) else "" if value is None else str(value)


class ObservationConflicts:
    """Needs the form's `obs`, `saves`, `form_values`, `show_observation` and `call_service`."""

    obs: Any
    saves: Any

    def compare_versions(self, *, asked: bool = False) -> None:
        """Read what is stored now and put each field both changed beside what is waiting; the
        fields only one of them changed need no choice (theirs shown, the user's sent over it)."""
        if self.obs is None:
            return
        from qa_tui.services.practice.observations import get_observation

        obs_id = self.obs.id
        self.call_service(lambda s: get_observation(s, obs_id), lambda stored: self._ask_which(stored, asked))

    def _ask_which(self, stored: ObservationView, asked: bool = False) -> None:
        from screens.audits.conflict import ConflictDialog

        base, theirs = self.obs, as_shown(stored)
        if base is None:
            return
        values, problems = self.form_values()
        rows: list[tuple[str, str, str]] = []
        merged: dict[str, str] = {}
        for field in SAVED_FIELDS:
            if field in problems or field not in values:
                continue
            mine, started, now = values[field], getattr(base, field), getattr(theirs, field)
            if mine == started or now == started or mine == now:
                continue  # only one of them changed it, or both to the same
            rows.append((FIELD_LABELS[field], shown(mine), shown(now)))
            if field in TEXT_AREAS or field in MERGED_WITH:
                merged[field] = f"{mine}{MERGED_WITH.get(field, chr(10) * 2)}{now}" if now else mine
        if not rows:
            self.show_observation(stored)
            return

        def chosen(choice: str | None) -> None:
            if choice == "theirs":
                self.saves.discard()
                self.show_observation(stored, keep_typed=False)
            elif choice == "mine":
                self.show_observation(stored)  # what was typed is laid over it and sent from its version
            elif choice == "merge":
                self.saves.discard()  # sent again, merged, from the version just read
                for field, text in merged.items():
                    self._put(field, text)
                self.show_observation(stored)

        self.app.push_screen(ConflictDialog(rows, record="this observation", again="press R on the form",
                                            unbidden=not asked), chosen)

    def _put(self, field: str, text: str) -> None:
        """Put `text` in a text field as if typed, the cursor after it so typing goes on there."""
        widget = self.query_one(f"#field-{field}")
        if isinstance(widget, TextArea):
            widget.load_text(text)
            widget.move_cursor(widget.document.end)
        elif isinstance(widget, Input):
            widget.value = text
            widget.cursor_position = len(text)

