"""Keys are handled one after another, each to the end, before the next is read.

Textual hands a key to the widget that has the focus when the key is read, and acts on most
bindings only when the key has come back up from that widget to the app; a priority binding acts
as the key is read. Typed faster than the app keeps up (a busy machine, a slow database, a fast
typist, keys pasted by tmux), keys overtook each other: Down, Down, Enter opened the first row of a
list, not the third; words typed after Enter on a list of options went to the list; a letter typed
after a key that opens a form went to the screen behind it. Here the app reads the next key only
once the one before has been handled all the way up, which is the order the user typed them in.

A key that needs the database, typed while the app is still opening (the first figures are on
screen, the database is not open yet), is held with every key typed after it, not dropped, and
they act in order once it is open: `l` pressed as the dashboard appears opens the live audit a
moment later. Keys that need no database (help) act at once until then."""

from __future__ import annotations

from collections import deque

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.timer import Timer

# A key still on its way after this long (a widget that never answers) no longer holds the next.
STUCK_AFTER = 2.0
# Keys that leave the app act at once, even while the others are held.
NEVER_HELD = frozenset({"ctrl+c", "ctrl+q"})


class KeysInOrder(App[int]):
    """Mixed into the app: raw keys wait while the key before them is still being handled."""

    def __init__(self) -> None:
        super().__init__()
        self._keys_waiting: deque[events.Key] = deque()
        self._key_in_hand = 0  # which key is being handled (0: none), so a late "done" is ignored
        self._key_serial = 0
        self._stuck_timer: Timer | None = None
        self._keys_held: list[events.Key] = []

    @property
    def keys_pending(self) -> int:
        """Keys read but not yet handled to the end (tests wait for none)."""
        return len(self._keys_waiting) + bool(self._key_in_hand)

    def keys_on_hold(self, event: events.Key) -> bool:
        """Whether this key (and every key after it) waits for the app to be ready (the app says)."""
        return False

    def release_held_keys(self) -> None:
        """The app is ready: the keys typed meanwhile act, in the order they were typed."""
        held, self._keys_held = self._keys_held, []
        if held:
            self.post_message(_Release(held))

    def drop_held_keys(self) -> None:
        """Opening failed: keys typed for a screen that never came are not sent to the problem's."""
        self._keys_held = []

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _Release):
            self._keys_waiting.extend(event.keys)
            if not self._key_in_hand and self._keys_waiting:
                await self._handle_key_in_order(self._keys_waiting.popleft())
            return
        if isinstance(event, events.Key) and not event.is_forwarded:
            if event.key not in NEVER_HELD and (self._keys_held or self.keys_on_hold(event)):
                self._keys_held.append(event)
                return
            if self._key_in_hand:
                self._keys_waiting.append(event)
                return
            await self._handle_key_in_order(event)
            return
        await super().on_event(event)

    async def _handle_key_in_order(self, event: events.Key) -> None:
        target: DOMNode = self.focused or self.screen
        self._key_serial += 1
        serial = self._key_in_hand = self._key_serial
        await super().on_event(event)
        # Follow the key up the path it bubbles along: each step waits behind it in the same queue.
        hops: list[DOMNode] = [target, *target.ancestors]
        if hops[-1] is not self:
            hops.append(self)

        def hop(index: int) -> None:
            if self._key_in_hand != serial:
                return
            while index < len(hops) - 1 and not hops[index].call_later(hop, index + 1):
                index += 1  # gone (a closed dialog): the next one up
            if index >= len(hops) - 1:
                # At the app, behind the key: once more, behind what handling it queued there (a
                # field's focus() moves the focus through the app's queue).
                self.call_later(self.call_later, self._key_done, serial)

        hop(0)
        self._stuck_timer = self.set_timer(STUCK_AFTER, lambda: self.call_later(self._key_done, serial))

    async def _key_done(self, serial: int) -> None:
        if self._key_in_hand != serial:
            return
        self._key_in_hand = 0
        if self._stuck_timer is not None:
            self._stuck_timer.stop()
            self._stuck_timer = None
        if self._keys_waiting:
            await self._handle_key_in_order(self._keys_waiting.popleft())


class _Release(events.Event, bubble=False):
    """Held keys, to be handled in order from the app's own queue."""

    def __init__(self, keys: list[events.Key]) -> None:
        super().__init__()
        self.keys = keys
