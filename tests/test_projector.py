"""On the projector (100x30) with the demo council: each screen's main keys on its footer and the
rest in help (F1 lists the screen it was opened from), area keys one key from every area screen,
and the columns and labels a decision needs on screen. Read from the rendered screen."""

from __future__ import annotations

import re
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
        assert footer(dashboard).split() == ["r", "Refresh", "e", "Escalations", "f1", "Help"]
        areas = " ".join(dashboard[-4:-1])  # the area keys, above the footer, none cut
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


# --- columns and labels -----------------------------------------------------------------------


def test_long_columns_give_way_and_short_ones_never_do() -> None:
    from qa_tui.widgets.record_table import fit_widths

    # a mark, kind, what, case, owner, team, due, late: 82 cells of room at 100 columns
    natural = [1, 11, 40, 16, 21, 18, 8, 4]
    widths = fit_widths(natural, [1, 6, 6, 6, 6, 6, 3, 4], 82)
    assert sum(widths) <= 82 and widths[-2:] == [8, 4] and widths[:2] == [1, 11]
    assert widths[2] == max(widths)  # the widest text keeps the most
    assert fit_widths(natural, [1] * 8, 200) == natural  # room enough: nothing cut
    # what one long column does not need goes to the other
    assert fit_widths([30, 14], [6, 6], 40, typical=[10, 14]) == [26, 14]


def test_a_grade_scale_shortens_its_longest_names_until_every_grade_shows() -> None:
    from qa_tui.widgets.grades import scale_legend

    ofsted = ("Outstanding", "Good", "Requires improvement to be good", "Inadequate")
    assert scale_legend(ofsted, 80) == "1 Outstanding  2 Good  3 Requires improvement to be good  4 Inadequate"
    assert scale_legend(ofsted, 60) == "1 Outstanding  2 Good  3 Requires improvement  4 Inadequate"
    assert scale_legend(ofsted, 44) == "1 Outstanding  2 Good  3 RI  4 Inadequate"
    assert scale_legend(("Met", "Partly met", "Not met"), 30) == "1 Met  2 Partly met  3 Not met"


async def test_triage_shows_due_and_late_at_100_columns_without_scrolling(demo_url: str) -> None:
    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = await go(pilot, "t")
        header = next(line for line in lines if "Kind" in line and "What" in line)
        assert header.split()[-2:] == ["Due", "Late"], header
        rows = lines[lines.index(header) + 1:lines.index(header) + 6]
        assert all(re.search(r"\d\d/\d\d/\d\d\s+(\d+d|owed)\s*$", row) for row in rows), rows
        assert app.screen.table.scroll_x == 0


async def test_grade_legend_grade_rows_and_action_titles_fit_at_100_columns(demo_url: str) -> None:
    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go(pilot, "l")
        lines = await go(pilot, "enter")
        screen = "\n".join(lines)
        assert "4 Inadequate" in screen and "1 Outstanding" in screen, screen
        grades = [line for line in lines if "Voice of the child" in line or "Management oversight" in line]
        assert grades and not any("…" in line.split("█")[1] for line in grades), grades
        for _ in range(10):  # to a case with actions raised
            actions = [i for i, line in enumerate(lines) if "│ • " in line]
            if actions:
                break
            lines = await go(pilot, "n")
        assert actions, screen
        for i in actions:  # the title on its line, the owner and date on the next: nothing wraps
            assert " · by " in lines[i + 1], lines[i:i + 2]

        await go(pilot, "escape", "m")
        lines = await go(pilot, "enter")
        assert app.screen.__class__.__name__ == "ModerateAuditScreen"
        rows = [line for line in lines if line.startswith("█ ") and ("auditor:" in line or "regraded" in line)]
        assert len(rows) >= 7, "\n".join(lines)  # every domain and the overall, each with the auditor's grade
        assert "4 Inadequate" in "\n".join(lines)


async def test_what_i_owe_shows_done_and_due_by_whole_at_100_columns(demo_url: str) -> None:
    """The task and the people waiting give way; "8 of 10" and the date it is due never do (the
    done column read "8 of 1" with the names of the workers behind pushing it off the edge)."""
    from qa_tui.widgets.record_table import RecordTable

    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go(pilot, "p")
        table = app.screen.query_one("#owe-table", RecordTable)
        assert any(len(str(cells[1])) > 40 for _key, cells in table.records)  # the demo has long rows
        for i, (_key, cells) in enumerate(table.records):
            assert [str(table.get_row_at(i)[c]).strip() for c in (3, 4)] == [str(cells[c]).strip() for c in (3, 4)]
        assert table.scroll_x == 0 and sum(table.widths) + 2 * len(table.widths) <= 98


async def test_compliance_labels_and_report_bars_are_whole_or_shortened_with_an_ellipsis(demo_url: str) -> None:
    from qa_tui.widgets.record_table import RecordTable

    app = open_app(demo_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await go(pilot, "p")
        tabs = app.screen.query_one("TabbedContent")
        tabs.active = "tab-compliance"
        await settle(pilot)
        table = app.screen.query_one("#compliance-table", RecordTable)
        full = {str(cell).strip() for _key, cells in table.records for cell in cells[:2]}
        shown = [str(table.get_row_at(i)[c]).strip() for i in range(table.row_count) for c in (0, 1)]
        assert all(text in full or text.endswith("…") for text in shown), shown
        # what the rate rests on is never cut: done, of what, the rate and how many are late
        for i, (_key, cells) in enumerate(table.records):
            assert [str(table.get_row_at(i)[c]).strip() for c in (2, 3, 4, 6)] == [
                str(cells[c]).strip() for c in (2, 3, 4, 6)]
        assert table.scroll_x == 0 and sum(table.widths) + 2 * len(table.widths) <= 98

        tabs.active = "tab-monthly"
        monthly = "\n".join(await go(pilot))
        assert "Requires improvement" in monthly and "Requires improvement to be g" not in monthly
