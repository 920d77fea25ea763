"""The hostile council (`qa-tui demo --hostile`): every name, title, theme and free text carries
markup, terminal escapes, formulas, right-to-left marks, emoji and very long words. Every screen
opens on it at 100x30 and 160x48 and shows the text as typed, with no control character written
to the terminal; the command-line reports and exports run on it and stay safe to open."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import JSON, String, select
from textual.pilot import Pilot

from qa_tui.cli import main
from qa_tui.db.base import Record
from qa_tui.db.engine import Database
from qa_tui.db.models import EDITABLE_MODELS, Person, Theme
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.demo.dressing import HOSTILE_COLUMNS, PLAIN_COLUMNS
from tests.pilot import built_council, make_app, make_context, private_copy, settle

TODAY = date(2026, 11, 24)
CASES = 300
# What a terminal would obey: C0 and C1 controls (tab and newline included: a screen line holds
# neither), DEL, and the bidirectional embeddings, overrides and isolates.
OBEYED = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MARKUP = ("[/]", "[bold red]x[/]", "[redacted]", "[b]")
SIZES = [(100, 30), (160, 48)]


def build(url: str, cases: int = CASES) -> None:
    db = Database.open(url, actor="tester")
    try:
        build_demo(db, today=TODAY, cases=cases, hostile=True)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def hostile_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile council, built once per module; each test works on its own copy."""
    return built_council(sqlite_template, tmp_path_factory.mktemp("hostile") / "hostile.sqlite3", build)


@pytest.fixture
def hostile_url(hostile_file: Path, tmp_path: Path) -> Iterator[str]:
    yield private_copy(hostile_file, tmp_path / "hostile")


# --- the council itself -----------------------------------------------------------------------


def test_every_text_column_is_dressed_or_kept_plain_on_purpose() -> None:
    """A new text column is a decision: people's text (dressed) or a code (plain)."""
    undecided = []
    for model in EDITABLE_MODELS:
        table = model.__table__
        for column in table.columns:
            if not isinstance(column.type, (String, JSON)) or column.key in Record.__annotations__:
                continue
            listed = (*HOSTILE_COLUMNS.get(table.name, ()), *PLAIN_COLUMNS.get(table.name, ()), *PLAIN_COLUMNS["*"])
            if column.key not in listed:
                undecided.append(f"{table.name}.{column.key}")
    assert undecided == []


def test_the_same_seed_dresses_the_same_council(tmp_path: Path, sqlite_template: Path) -> None:
    names = []
    for run in range(2):
        path = tmp_path / f"run{run}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        build(f"sqlite:///{path}", cases=40)
        db = Database.open(f"sqlite:///{path}", actor="tester")
        with db.reader() as s:
            names.append((sorted(s.scalars(select(Person.name))), sorted(s.scalars(select(Theme.name)))))
        db.dispose()
    assert names[0] == names[1]
    people, themes = names[0]
    assert any("[/]" in n for n in people) and any("\x1b" in n for n in people) and any("=" in n for n in people)
    assert len(themes) == 2


def test_the_demo_command_builds_the_hostile_council_in_its_own_file(capsys: pytest.CaptureFixture[str]) -> None:
    from qa_tui.config import data_dir

    args = ["--today", TODAY.isoformat(), "demo", "--hostile", "--build-only", "--cases", "40"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "demo-hostile.sqlite3" in out and re.search(r"theme +2\n", out)
    assert (data_dir() / "demo-hostile.sqlite3").exists() and not (data_dir() / "demo.sqlite3").exists()
    assert main(args) == 2  # built once; --rebuild builds it again
    assert "already holds data" in capsys.readouterr().err


# --- every screen -----------------------------------------------------------------------------


def shown(pilot: Pilot) -> str:
    """The screen as it goes to the terminal, line by line; no segment of it may hold a
    character the terminal would obey."""
    lines = []
    for y, strip in enumerate(pilot.app.screen._compositor.render_strips()):
        for segment in strip:
            found = OBEYED.search(segment.text)
            assert found is None, f"line {y}: {found.group()!r} written to the terminal in {segment.text!r}"
        lines.append(strip.text)
    return "\n".join(lines)


async def look(pilot: Pilot, where: str, *keys: str, markup: bool = True) -> str:
    """Press `keys`, wait, and check the screen: no crash, nothing obeyed, and (where the screen
    shows people's text) their markup shown as typed."""
    if keys:
        await pilot.press(*keys)
    await settle(pilot)
    text = shown(pilot)
    assert "Traceback" not in text and "Error" not in text.split("\n")[-1], where
    if markup:
        assert any(token in text for token in MARKUP), f"{where}: no markup shown as typed\n{text}"
    return text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen_shows_the_hostile_council_as_typed(hostile_url: str, size: tuple[int, int]) -> None:
    ctx = make_context(hostile_url, today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    user = ctx.person_name
    assert "\x1b" in user or "[" in user
    async with make_app(ctx).run_test(size=size, notifications=True) as pilot:
        app = pilot.app
        dashboard = await look(pilot, "dashboard")
        assert app.screen.__class__.__name__ == "DashboardScreen"
        assert user.replace("\x1b", "␛").replace("\x07", "␇")[:30] in dashboard  # the header's sub-title

        await look(pilot, "live audit", "l")
        await look(pilot, "the draw explained", "i")
        assert app.screen.__class__.__name__ == "DrawExplanationScreen"
        await look(pilot, "back to the plan", "escape")
        await look(pilot, "meeting", "enter")
        assert app.screen.__class__.__name__ == "MeetingScreen"
        await look(pilot, "participants' grades (first names: formulas, not markup)", "P", markup=False)
        assert app.screen.__class__.__name__ == "ParticipantGridScreen"
        await look(pilot, "back to the meeting", "escape")
        await look(pilot, "the audit's history", "h", markup=False)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        await look(pilot, "back to the meeting", "escape")
        await look(pilot, "meeting, next case", "n")
        await look(pilot, "meeting summary", "e")
        assert app.screen.__class__.__name__ == "MeetingSummaryScreen"
        await look(pilot, "back to the meeting", "escape")
        await look(pilot, "back to the plan", "escape")

        await look(pilot, "moderation", "m")
        await look(pilot, "moderate an audit", "enter")
        assert app.screen.__class__.__name__ == "ModerateAuditScreen"
        await look(pilot, "moderation list again", "escape")

        await look(pilot, "triage", "t")
        table = app.screen.table  # type: ignore[attr-defined]
        while table.current.kind != "action":
            await pilot.press("down")
        toast = await look(pilot, "triage, an action opened (a toast)", "enter")
        assert "Toast" in {w.__class__.__name__ for w in app.screen.query("*")}, toast
        await look(pilot, "the action's history", "h")
        assert app.screen.__class__.__name__ == "HistoryScreen"
        await look(pilot, "triage again", "escape")

        await look(pilot, "observations (o from triage itself: area keys work on every area screen)", "o")
        await look(pilot, "a worker's observations (a dialog)", "enter")
        await look(pilot, "an observation", "down", "enter")
        assert app.screen.__class__.__name__ == "ObservationFormScreen"
        await look(pilot, "observations again", "escape")
        await look(pilot, "new observation", "n", markup=False)
        await look(pilot, "observations again", "escape")

        await look(pilot, "supervision", "s")
        await look(pilot, "an agenda", "enter")
        assert app.screen.__class__.__name__ == "AgendaScreen"
        await look(pilot, "supervision again", "escape")
        await look(pilot, "an agenda's finding opened", "enter", "o")
        assert app.screen.__class__.__name__ == "FindingScreen"
        await look(pilot, "the agenda again", "escape")
        await look(pilot, "supervision again", "escape")
        await look(pilot, "my work", "W", markup=False)
        assert app.screen.__class__.__name__ == "MyWorkScreen"

        await look(pilot, "dip sampling", "k")
        await look(pilot, "start a dip sample? (a dialog)", "enter", markup=False)
        await look(pilot, "a dip sample", "y", markup=False)
        assert app.screen.__class__.__name__ == "DipSampleFormScreen"
        await look(pilot, "dip sampling again", "escape")

        await look(pilot, "feedback", "b")
        await look(pilot, "feedback form", "n", markup=False)
        await look(pilot, "feedback again", "escape")

        await look(pilot, "other audits: themes", "u")
        await look(pilot, "a theme", "enter")
        assert app.screen.__class__.__name__ == "ThemeScreen"
        await look(pilot, "a themed audit", "enter")
        assert app.screen.__class__.__name__ == "AuditFormScreen"
        await look(pilot, "the theme again", "escape")
        await look(pilot, "other audits again", "escape")
        await look(pilot, "multi-agency", "2")
        await look(pilot, "good practice", "6")
        await look(pilot, "support plans", "7")
        await look(pilot, "a support plan", "enter")
        assert app.screen.__class__.__name__ == "SupportPlanScreen"
        await look(pilot, "other audits again", "escape")

        reports = await look(pilot, "reports", "p")
        for tab in ("tab-compliance", "tab-monthly", "tab-trends", "tab-cp"):
            app.screen.query_one("TabbedContent").active = tab  # type: ignore[attr-defined]
            reports = await look(pilot, f"reports, {tab}", markup=tab != "tab-cp")
        assert "Monthly" in reports or "CP" in reports
        app.screen.query_one("TabbedContent").active = "tab-compliance"  # type: ignore[attr-defined]
        app.screen.query_one("#compliance-table").focus()  # type: ignore[attr-defined]
        await look(pilot, "the people behind a compliance rate", "enter")
        assert app.screen.__class__.__name__ == "ComplianceDetailScreen"
        await look(pilot, "reports again", "escape")

        await look(pilot, "sync", "y")
        await look(pilot, "a sync conflict", "enter")
        assert app.screen.__class__.__name__ == "ConflictScreen"
        await look(pilot, "sync again", "escape")

        await look(pilot, "people and cases: teams", "a")
        await look(pilot, "people", "2")
        await look(pilot, "edit a person", "e")
        await look(pilot, "people again", "escape")
        await look(pilot, "import", "i", markup=False)
        await look(pilot, "import, no file", "escape", markup=False)
        await look(pilot, "people again", "escape")
        await look(pilot, "settings", "comma", markup=False)
        await look(pilot, "settings, the teams to choose from", "tab", "enter")
        await look(pilot, "settings", "escape", markup=False)
        await look(pilot, "people again", "escape")
        await look(pilot, "help", "question_mark", markup=False)
        await look(pilot, "people again", "escape")


async def test_the_header_shows_a_name_with_escapes_as_typed(hostile_url: str) -> None:
    db = Database.open(hostile_url, actor="tester")
    with db.reader() as s:
        person = s.scalars(select(Person).where(Person.name.contains("\x1b]0;")).order_by(Person.staff_id)).first()
    db.dispose()
    assert person is not None
    ctx = make_context(hostile_url, today=TODAY, staff_id=person.staff_id)
    async with make_app(ctx).run_test(size=SIZES[0]) as pilot:
        header = (await look(pilot, "dashboard")).splitlines()[0]
    assert "qa-tui — " in header and "␛]0;title␇" in header and person.name.split(" [/]")[0][-12:] in header


# --- the command line and the files it writes -------------------------------------------------

COMMANDS = [
    ["report", "monthly", "--month", "2026-10"], ["report", "monthly", "--month", "2026-10", "--format", "html"],
    ["report", "quarterly", "--quarter", "2026-Q2"], ["report", "owe", "--person", "DEMO-S00002"],
    ["report", "compliance"], ["report", "compliance", "--by", "role"], ["report", "cp-reviews"],
    ["report", "dip-samples", "--month", "2026-10"], ["report", "observations", "--half", "2026-H1"],
    ["report", "feedback", "--quarter", "2026-Q2"], ["report", "improvement", "--quarter", "2026-Q2"],
    ["report", "owe", "--person", "NOBODY-[/]\x1b[2J"],  # an error message quoting what was typed
]


def no_terminal_controls(text: str, where: str) -> None:
    found = re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert found is None, f"{where}: {found.group()!r} near {text[max(0, found.start() - 40):found.end() + 40]!r}"


def test_reports_and_exports_of_the_hostile_council_are_safe_to_print_and_open(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa_tui.config import parse_config
    from qa_tui.services.audits.theme_report import export_theme_report
    from qa_tui.services.practice.celebration import export_celebration_pack, quarter_of
    from qa_tui.services.reports.cells import starts_like_a_formula

    build(db_url)
    base = ["--db", db_url, "--today", TODAY.isoformat()]
    printed = ""
    for command in COMMANDS:
        code = main([*base, *command])
        out, err = capsys.readouterr()
        assert code == (2 if "NOBODY-[/]\x1b[2J" in command else 0), (command, err)
        no_terminal_controls(out + err, " ".join(command))
        printed += out + err
    missing = [t for t in ("[/]", "[bold red]x[/]", "␛]0;title␇", "=HYPERLINK(", "NOBODY-[/]") if t not in printed]
    assert missing == []

    for fmt in ("csv", "xlsx"):
        assert main([*base, "export", "--format", fmt, "--out", str(tmp_path / fmt), "--month", "2026-10"]) == 0
    for fmt in ("md", "html"):
        assert main([*base, "report", "monthly", "--month", "2026-10", "--format", fmt,
                     "--out", str(tmp_path / fmt)]) == 0
    capsys.readouterr()
    cells = []
    for path in sorted((tmp_path / "csv").iterdir()):
        with path.open(encoding="utf-8", newline="") as f:
            cells += [cell for row in csv.reader(f) for cell in row]
    assert not [c for c in cells if starts_like_a_formula(c)]  # each neutralised with a leading '
    assert "'=HYPERLINK(\"http://x\",\"y\") Assessment Team 1 [/] ␛]0;title␇" in cells
    book = load_workbook(tmp_path / "xlsx" / "qa-report-2026-10.xlsx")
    values = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in values if c.data_type == "f"] == []
    assert '=HYPERLINK("http://x","y") Assessment Team 1 [/] ␛]0;title␇' in {c.value for c in values}
    assert book["dim_period"]["C2"].is_date

    db = Database.open(db_url, actor="tester")
    try:
        with db.session() as s:
            theme_id = s.scalars(select(Theme.id).order_by(Theme.name)).first()
            written = [export_theme_report(s, theme_id, today=TODAY, cfg=parse_config({}), out_dir=tmp_path / "t"),
                       *export_celebration_pack(s, quarter_of(TODAY), today=TODAY, out_dir=tmp_path / "t")]
    finally:
        db.dispose()
    for path in [*written, *(tmp_path / "md").iterdir(), *(tmp_path / "html").iterdir()]:
        text = path.read_text(encoding="utf-8")
        no_terminal_controls(text.replace("\n", "").replace("\t", ""), path.name)
        assert "␛" in text or "␇" in text or "<U+" in text, path.name
