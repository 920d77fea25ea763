"""Snapshots of every screen on the demo council (seed and date fixed) at the projector's 100x30
and at 160x48: one walk per size, pressing the keys a user would, each screen compared with its
SVG under __snapshots__/. After a deliberate change to how a screen looks, look at the report and
regenerate them in a commit of their own:

    .venv/bin/python -m pytest -n 0 tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from pytest_textual_snapshot import SVGImageExtension
from syrupy import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent, TextArea

from tests.pilot import settle
from tests.test_projector import demo_council, demo_url, open_app  # noqa: F401  (fixtures)

SIZES = [(100, 30), (160, 48)]
# (name, keys pressed from the screen before, the screen that should then show). Dialogs are
# snapshotted where a user meets them; Esc takes the walk back.
WALK: list[tuple[str, tuple[str, ...], str]] = [
    ("dashboard", (), "DashboardScreen"),
    ("help", ("f1",), "HelpScreen"),
    ("live-audit", ("escape", "l"), "LiveAuditScreen"),
    ("meeting", ("enter",), "MeetingScreen"),
    ("meeting-help", ("question_mark",), "HelpScreen"),
    ("meeting-next-case", ("escape", "n"), "MeetingScreen"),
    ("meeting-summary", ("e",), "MeetingSummaryScreen"),
    ("live-audit-again", ("escape", "escape"), "LiveAuditScreen"),
    ("moderation", ("m",), "ModerationScreen"),
    ("moderate-audit", ("enter",), "ModerateAuditScreen"),
    ("moderation-to-finalise", ("escape", "v"), "ModerationScreen"),
    ("triage", ("t",), "TriageScreen"),
    ("triage-owner", ("O",), "ChoiceDialog"),
    ("observations", ("escape", "o"), "ObservationsScreen"),
    ("observation-new", ("n",), "ObservationFormScreen"),
    ("supervision", ("escape", "s"), "SupervisionScreen"),
    ("supervision-agenda", ("enter",), "AgendaScreen"),
    ("dip-sampling", ("escape", "k"), "DipSampleScreen"),
    ("dip-sample-start", ("enter",), "ConfirmDialog"),
    ("dip-sample", ("y",), "DipSampleFormScreen"),
    ("feedback", ("escape", "b"), "FeedbackScreen"),
    ("feedback-new", ("n",), "FeedbackFormScreen"),
    *((f"other-audits-{n}", ("escape", "u") if n == 1 else (str(n),), "AuditsOtherScreen") for n in range(1, 8)),
    ("reports", ("p",), "ReportsScreen"),
    ("reports-compliance", ("tab:tab-compliance",), "ReportsScreen"),
    ("reports-monthly", ("tab:tab-monthly",), "ReportsScreen"),
    ("reports-cp", ("tab:tab-cp",), "ReportsScreen"),
    ("sync", ("y",), "SyncScreen"),
    ("people-and-cases", ("a",), "AdminScreen"),
    ("people", ("2",), "AdminScreen"),
    ("cases", ("3",), "AdminScreen"),
    ("case-edit", ("e",), "RecordForm"),
    ("import", ("escape", "i"), "ImportFileDialog"),
    ("settings", ("escape", "escape", "comma"), "SettingsScreen"),
]


async def step(pilot: Pilot, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key.startswith("tab:"):
            pilot.app.screen.query_one(TabbedContent).active = key.removeprefix("tab:")
        else:
            await pilot.press(key)
        await settle(pilot)
    for field in pilot.app.screen.query("Input, TextArea"):  # a steady cursor, not a blinking one
        if isinstance(field, (Input, TextArea)):
            field.cursor_blink = False
    await settle(pilot)


async def steady(pilot: Pilot) -> str:
    """The screen once it has stopped changing: on a busy machine a panel filled by a second
    service call can land after the first settle (seen as a flaky 'moderate-audit')."""
    shot = pilot.app.export_screenshot(title="qa-tui")
    for _ in range(20):
        await pilot.pause(0.1)
        await settle(pilot)
        again = pilot.app.export_screenshot(title="qa-tui")
        if again == shot:
            break
        shot = again
    return shot


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen_looks_as_it_did(demo_url: str, size: tuple[int, int],  # noqa: F811
                                            snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings and help name the preferences file: the same path on every run (none is written).
    monkeypatch.setenv("QA_TUI_CONFIG", "/home/team-manager/.config/qa-tui/config.toml")
    svg = snapshot.use_extension(SVGImageExtension)
    changed, wrong_screen = [], []
    app = open_app(demo_url)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for name, keys, expected in WALK:
            await step(pilot, keys)
            if app.screen.__class__.__name__ != expected:
                wrong_screen.append(f"{name}: {app.screen.__class__.__name__}, not {expected}")
            if not svg(name=name) == await steady(pilot):
                changed.append(name)
    assert wrong_screen == []
    assert changed == [], f"screens that look different at {size[0]}x{size[1]}: {changed}"
