"""On the projector (100x30) with the demo council: each screen's main keys on its footer and the
rest in help (F1 lists the screen it was opened from), area keys one key from every area screen,
and the columns and labels a decision needs on screen. Read from the rendered screen."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.pilot import Pilot

from qa_tui.app import AREAS, QAApp
from qa_tui.db.engine import Database
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.pilot import SIZE, built_council, make_app, make_context, private_copy, settle

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="session")
def demo_council(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council (`qa-tui demo`, seed and date fixed), built once; tests use copies."""
    def build(url: str) -> None:
        db = Database.open(url, actor="tester")
        build_demo(db, today=TODAY)
        db.dispose()

    return built_council(sqlite_template, tmp_path_factory.mktemp("demo") / "demo.sqlite3", build)


@pytest.fixture
def demo_url(demo_council: Path, tmp_path: Path) -> str:
    return private_copy(demo_council, tmp_path / "demo")


def open_app(url: str) -> QAApp:
    return make_app(make_context(url, today=TODAY, staff_id=DEMO_USER_STAFF_ID))


def rendered(app: QAApp) -> list[str]:
    """The screen as the terminal shows it, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def go(pilot: Pilot, *keys: str) -> list[str]:
    await pilot.press(*keys)
    await settle(pilot)
    return rendered(pilot.app)


def footer(lines: list[str]) -> str:
    return lines[-1]


# --- footers and help ---------------------------------------------------------------------------


async def test_each_screens_main_keys_are_on_its_footer_at_100_columns(demo_url: str) -> None:
    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dashboard = rendered(app)
        assert footer(dashboard).split() == ["r", "Refresh", "f1", "Help"]
        areas = " ".join(dashboard[-3:-1])  # the area keys, above the footer, none cut
        for area in AREAS:
            if area.mode != "dashboard":
                assert f"{area.key} {area.title}" in areas, areas

        await go(pilot, "l")
        meeting = footer(await go(pilot, "enter"))
        assert app.screen.__class__.__name__ == "MeetingScreen"
        for shown in ("1 Grade", "w/i/c Write", "a Action", "f Finding", "u Submit", "n/p Next/prev",
                      "v Participant", "e End", "esc Back", "f1 Help"):
            assert shown in meeting, meeting

        await go(pilot, "escape")
        triage = footer(await go(pilot, "t"))
        assert app.screen.__class__.__name__ == "TriageScreen"
        for shown in ("K Kind", "w Team", "O Owner", "g Days late", "c Done", "e Extend", "A Reassign", "⏎ Open",
                      "x Clear filters", "f1 Help"):
            assert shown in triage, triage


async def test_help_lists_the_keys_of_the_screen_it_was_opened_from(demo_url: str) -> None:
    app = open_app(demo_url)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await go(pilot, "l", "enter")
        meeting = app.screen
        await go(pilot, "f1")
        assert app.screen.__class__.__name__ == "HelpScreen"
        listed = {line.binding_id: line for line in app.screen.here}
        # the meeting's own keys, the editor's and the grade list's (focused), shown or not
        for binding_id in ("next-case", "prev-case", "participant-grade", "end-meeting", "audit-action",
                           "audit-jump-improve", "audit-jump-lived", "grade-1", "grade-4", "audit-reload"):
            assert binding_id in listed, sorted(listed)
        assert listed["prev-case"].keys == "p, pgup" and "Save and go back one case" in listed["prev-case"].what
        assert not any(i.startswith("area-") or i == "help" for i in listed)  # the app's keys are listed apart
        help_text = "\n".join(rendered(app))
        assert "On this screen" in help_text and "n, pgdn    Next/prev: Save and go to the next drawn case" in help_text
        # in the meeting a and u are the audit's; help says how to reach those areas
        areas = {line.binding_id: line.what for line in app.screen.area_lines}
        assert "here a is action" in areas["area-admin"] and "Esc first" in areas["area-admin"]
        assert areas["area-observations"].startswith("Observations: ")
        await go(pilot, "escape")
        assert app.screen is meeting

        await go(pilot, "escape", "t", "question_mark")
        listed = {line.binding_id for line in app.screen.here}
        assert {"triage-kind", "triage-owner", "triage-reassign", "triage-search", "triage-sort",
                "triage-select"} <= listed


def test_no_area_screen_takes_an_area_letter_for_something_else() -> None:
    """On each area's own screen the area letters are the areas (the README promises it);
    a screen key sharing one is its capital instead (triage K, O, A)."""
    from screens.keymap import declared_bindings

    area_keys = {area.key for area in AREAS}
    area_screens = {area.screen_class for area in AREAS}
    taken = [f"{cls.__name__}: {key} {binding.description or binding.action}"
             for cls, binding in declared_bindings()
             if cls.__name__ in area_screens
             for key in binding.key.split(",") if key in area_keys]
    assert taken == []


async def test_area_keys_work_from_triage(demo_url: str) -> None:
    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for area in AREAS:
            await go(pilot, "t")
            await go(pilot, area.key)
            assert app.screen.__class__.__name__ == area.screen_class, area
