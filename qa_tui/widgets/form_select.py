"""A drop-down list for forms that keeps up with fast typing.

Textual reads each key's bindings when the key comes back up to the app, by then perhaps from
another widget: a user who chose with Enter and went straight on with Tab and their words (as
anyone typing at speed does) found the Enter read as the next field's, or the focus pulled back to
the list when the chosen option arrived, the words lost and their letters read as the screen's
keys. Here the open list handles its own keys as it receives them, and takes the focus back only if
it is still on the list (or nowhere)."""

from __future__ import annotations

from typing import TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay

T = TypeVar("T")

# The open list's keys, acted on by the list itself as each arrives (not via bindings).
OVERLAY_KEYS = {"down": "cursor_down", "up": "cursor_up", "home": "first", "end": "last",
                "pagedown": "page_down", "pageup": "page_up", "enter": "select", "escape": "dismiss"}


class FormSelectOverlay(SelectOverlay):
    async def _on_key(self, event: events.Key) -> None:
        action = OVERLAY_KEYS.get(event.key)
        if action is None:
            await super()._on_key(event)  # letters: type to search
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)


class FormSelect(Select[T]):
    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield FormSelectOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)

    _unseen: int | None = None  # the option the list would highlight, open unseen (see _on_key)

    async def _on_key(self, event: events.Key) -> None:
        """Keys that reach the list itself: Enter, Space or an arrow opens it; keys typed after
        that, before the open list had the focus, move and choose in it as they would there. Keys
        that arrive once the user has moved on (Tab, read before them) act as the open list would
        have, unseen, and leave the focus where the user took it."""
        key = event.key
        opening = key in ("enter", "space", "down", "up")
        if self.expanded:
            if key not in OVERLAY_KEYS:
                return
            await self.query_one(FormSelectOverlay).run_action(OVERLAY_KEYS[key])
        elif self.screen.focused is self:  # not has_focus: the Blur of a Tab read before this key is still queued
            if not opening:
                return  # Esc and the rest are the screen's
            self.action_show_overlay()
        elif opening or (self._unseen is not None and key in OVERLAY_KEYS):
            self._unseen_key(key)
        else:
            return
        event.stop()
        event.prevent_default()

    def _unseen_key(self, key: str) -> None:
        last = len(self._options) - 1
        if self._unseen is None:
            if key in ("enter", "space", "down", "up"):  # opens, on the current option
                values = [value for _, value in self._options]
                self._unseen = values.index(self.value) if self.value in values else 0
            return
        moves = {"down": min(self._unseen + 1, last), "up": max(self._unseen - 1, 0), "home": 0, "end": last,
                 "pagedown": last, "pageup": 0}
        if key in moves:
            self._unseen = moves[key]
        elif key == "enter":
            chosen, self._unseen = self._options[self._unseen][1], None
            if chosen != self.value:
                self.value = chosen
        else:  # escape
            self._unseen = None

    @on(SelectOverlay.UpdateSelection)
    def _update_selection(self, event: SelectOverlay.UpdateSelection) -> None:
        event.stop()
        event.prevent_default()  # Select's own handler would take the focus back regardless
        value = self._options[event.option_index][1]
        if value != self.value:
            self.value = value
        focused = self.screen.focused
        if focused is None or focused is self or isinstance(focused, SelectOverlay) and focused.parent is self:
            self.focus()
        self.expanded = False
