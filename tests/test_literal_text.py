"""Text from people and files is shown as typed: the rule the screens follow, checked by reading
their code, and the helpers that carry it out.

The rule: text handed to a widget is a string constant written in the code (which may use markup)
or is built by `literal()` / `literal_markup()`. Anything else (an f-string with a value in it,
`str(...)`, concatenation, `Text(value)`, `Content.from_markup(..., name=value)`) fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rich.text import Text
from textual.content import Content

from qa_tui.db.engine import Database
from qa_tui.text import control_problem, printable, without_controls
from qa_tui.widgets.literal import literal, literal_markup

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = sorted([*ROOT.glob("screens/**/*.py"), *ROOT.glob("qa_tui/widgets/*.py"), ROOT / "qa_tui/app.py"])
HELPERS = {"literal", "literal_markup"}
# Calls that build Rich or Textual text from their arguments.
BUILDERS = {"Text", "Content", "Text.from_markup", "Content.from_markup", "Text.assemble", "Content.assemble",
            "Text.from_ansi", "Text.styled", "Content.from_rich_text", "Content.from_text", "escape"}
# Widgets whose first argument is shown; methods whose first argument is shown.
SINK_CALLS = {"Static", "Label", "Button", "Option", "Tab", "Collapsible", "ListItem"}
SINK_METHODS = {"update"}
# `title` and `sub_title` are not here: the header shows them through QAApp.format_title, literal.
SINK_ATTRIBUTES = {"border_title", "border_subtitle", "tooltip"}
SINK_OPTIONS = {"Select", "set_options"}  # [(label, value), …]: each label is shown


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


def _safe(node: ast.expr | None, tables: frozenset[str] = frozenset()) -> bool:
    """Whether `node` is text written in the code, or text made by the helpers (or a Rich table
    made by one of `tables`, this module's functions that return one: their cells are checked
    as builder calls)."""
    if node is None:
        return True
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):  # an f-string is safe only when it interpolates nothing
        return all(isinstance(part, ast.Constant) for part in node.values)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_safe(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.Tuple) and node.elts:  # (text, style) in an assemble
        return _safe(node.elts[0])
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name == "literal_markup":
            return _template_is_constant(node)
        if name in HELPERS or name in tables:
            return True
        if name in BUILDERS:
            return not _builder_problem(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "append") \
                and _name(node.func.value) in BUILDERS:
            return False  # Text("\n").join(values): the values are unchecked
    return False


def _builder_problem(call: ast.Call) -> bool:
    name = _name(call.func)
    if name == "escape":
        return True  # escapes markup only; control characters would still reach the terminal
    if name.endswith("from_markup") and call.keywords:
        return True  # the values of a template go through literal_markup
    if name in ("Text", "Content"):
        return not _safe(call.args[0]) if call.args else False
    return not all(_safe(arg.value if isinstance(arg, ast.Starred) else arg) for arg in call.args) \
        or any(isinstance(arg, ast.Starred) for arg in call.args)


def _template_is_constant(call: ast.Call) -> bool:
    """literal_markup's template is markup written in the code, never a value."""
    return bool(call.args) and isinstance(call.args[0], ast.Constant)


def _option_labels_safe(node: ast.expr) -> bool:
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(isinstance(e, ast.Tuple) and _safe(e.elts[0]) for e in node.elts)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return isinstance(node.elt, ast.Tuple) and _safe(node.elt.elts[0])
    return False


def _problems(path: Path) -> Iterator[str]:
    yield from _problems_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def _problems_in(source: str, where: str) -> Iterator[str]:
    tree = ast.parse(source, filename=where)
    tables = frozenset(f.name for f in tree.body if isinstance(f, ast.FunctionDef)
                       and isinstance(f.returns, (ast.Name, ast.Constant)) and "Table" in ast.unparse(f.returns))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            short = name.rsplit(".", 1)[-1]
            if name == "literal_markup" and not _template_is_constant(node):
                yield f"{where}:{node.lineno}: literal_markup's template must be written in the code"
            elif name in BUILDERS and _builder_problem(node):
                yield f"{where}:{node.lineno}: {name}(…) of a value; use literal() or literal_markup()"
            elif name in SINK_CALLS and node.args and not _safe(node.args[0], tables):
                yield f"{where}:{node.lineno}: {name}(…) is given text not made by literal()"
            elif isinstance(node.func, ast.Attribute) and short in SINK_METHODS and node.args \
                    and not _safe(node.args[0], tables):
                yield f"{where}:{node.lineno}: .{short}(…) is given text not made by literal()"
            elif short in SINK_OPTIONS and node.args and not _option_labels_safe(node.args[0]):
                yield f"{where}:{node.lineno}: {short}(…) labels must be constants or literal()"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in SINK_ATTRIBUTES \
                        and not _safe(node.value):
                    yield f"{where}:{node.lineno}: .{target.attr} = text not made by literal()"


def test_every_text_given_to_a_widget_is_a_constant_or_literal() -> None:
    problems = [problem for path in UI_FILES if path.name != "literal.py" for problem in _problems(path)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source", [
    'Static(f"Hello {name}")', 'w.update(f"{n} rows")', 'w.update(name)', 'Label(str(x))', 'w.border_title = name',
    'w.tooltip = f"{who}"', 'Text(name)', 'Content.from_markup("[b]$n[/b]", n=name)', 'escape(name)',
    'Text.assemble(("x", "bold"), name)', 'literal_markup(f"[b]{name}[/b]")',
    'Select([(p.name, p.id) for p in people])', 'w.update("a" + name)',
])
def test_the_check_catches_what_lets_markup_in(source: str) -> None:
    assert list(_problems_in(source, "probe.py")), source


@pytest.mark.parametrize("source", [
    'Static("[b]Ctrl+S[/b] save")', 'w.update(literal(f"Hello {name}"))', 'w.border_title = "Key areas"',
    'Text.assemble(("x", "bold"), literal(name, "bold"))', 'literal_markup("[b]$n[/b]", n=name)',
    'Select([(literal(p.name), p.id) for p in people])', 'Static(Text("Loading", style="dim"))',
])
def test_the_check_lets_constants_and_the_helpers_through(source: str) -> None:
    assert not list(_problems_in(source, "probe.py")), source


# --- the helpers ------------------------------------------------------------------------------


def test_printable_makes_terminal_controls_visible_and_keeps_the_rest() -> None:
    assert printable("Mum said [redacted]") == "Mum said [redacted]"
    assert printable("tab\there\nnew line") == "tab\there\nnew line"
    assert printable("\x1b]0;title\x07") == "␛]0;title␇"
    assert printable("\x1b[2J") == "␛[2J"
    assert printable("a\x00b\x7f\x9bc") == "a␀b␡<U+009B>c"
    assert printable("abc\u202edcba") == "abc<U+202E>dcba"
    assert printable("\u200fRTL mark and emoji 👩🏽‍⚕️ stay") == "\u200fRTL mark and emoji 👩🏽‍⚕️ stay"
    assert printable("\ud800") == "<U+D800>"
    assert printable(None) == "" and printable(42) == "42"


def test_a_paste_keeps_its_lines_and_shows_its_controls() -> None:
    from qa_tui.text import pasted

    assert pasted("one\r\ntwo\rthree\n\tfour\x1b[2J\x00") == "one\ntwo\nthree\n\tfour␛[2J␀"


def test_control_characters_are_named_with_their_place() -> None:
    assert control_problem("fine\twith tab\nand lines") is None
    assert control_problem("ab\x1bc") == ("contains a control character, ESC (U+001B), at character 3; "
                                          "only tab and new line are allowed")
    assert "NUL (U+0000)" in str(control_problem("\x00"))
    assert "U+0085" in str(control_problem("next\x85line"))
    assert without_controls("a\x1b[2Jb\x00\t\n") == "a[2Jb\t\n"


def test_literal_never_reads_markup_and_never_passes_escapes() -> None:
    shown = literal("Chronology [see note] and [/] done\x1b[2J")
    assert isinstance(shown, Text)
    assert shown.plain == "Chronology [see note] and [/] done␛[2J" and not shown.spans
    assert literal("x", "bold").style == "bold"
    styled = Text("ok", style="bold")
    assert literal(styled) is styled
    assert literal(Text("bad\x1b")).plain == "bad␛"
    assert literal(Content("bad\x1b")).plain == "bad␛"
    content = literal_markup("[b]$name[/b] · $team", name="[bold red]Name[/]", team="\x1b]0;t\x07")
    assert content.plain == "[bold red]Name[/] · ␛]0;t␇"


# --- the dialogs, the toasts, and the action that used to stop the app -------------------------

TITLE = "Chronology [see note] and [/] done"


def screen_lines(app) -> str:  # noqa: ANN001
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_dialogs_and_toasts_show_what_they_are_given_as_typed() -> None:
    from textual import events
    from textual.widgets import Input

    from qa_tui.app import QAApp
    from qa_tui.config import parse_config
    from screens.dialogs import ChoiceDialog, ConfirmDialog, TextPrompt

    class Bare(QAApp):
        CSS_PATH = str(ROOT / "qa_tui" / "app.tcss")

        def open_database(self) -> None:  # no database: only the dialogs and the toasts
            pass

    async with Bare(parse_config({})).run_test(size=(100, 30), notifications=True) as pilot:
        app = pilot.app
        app.push_screen(ConfirmDialog(f"Close {TITLE}?", "Mum said [redacted]; [bold red]Name[/] \x1b[2J"))
        await pilot.pause()
        text = screen_lines(app)
        assert f"Close {TITLE}?" in text and "Mum said [redacted]; [bold red]Name[/] ␛[2J" in text
        await pilot.press("n")
        app.push_screen(ChoiceDialog("Owner [/]", [(1, "[bold red]Name[/]"), (2, "=HYPERLINK(\"x\")\x07")]))
        await pilot.pause()
        text = screen_lines(app)
        assert "Owner [/]" in text and "[bold red]Name[/]" in text and '=HYPERLINK("x")␇' in text
        await pilot.press("escape")
        app.push_screen(TextPrompt("Rename [/]", "New name [b]", initial="Was [/]\x1b]0;t\x07"))
        await pilot.pause()
        text = screen_lines(app)
        assert "Rename [/]" in text and "New name [b]" in text and "Was [/]␛]0;t␇" in text
        await pilot.press("ctrl+a", "ctrl+k")  # empty the field, then paste what a clipboard held
        app.post_message(events.Paste("Pasted\x1b[2J name\x07"))
        await pilot.pause()
        assert app.screen.query_one(Input).value == "Pasted␛[2J name␇"
        assert "\x1b" not in screen_lines(app)
        await pilot.press("escape")
        app.notify(f"Saved {TITLE} \x1b[2J", title="[b]Title[/b]")
        await pilot.pause()
        await pilot.pause()
        text = screen_lines(app)
        assert f"Saved {TITLE} ␛[2J" in text and "[b]Title[/b]" in text


async def test_an_overdue_action_titled_with_brackets_is_shown_at_start_up(db: Database, today: date) -> None:
    """The issue as filed: such an action among the most overdue stopped the app at start-up."""
    from datetime import timedelta

    from qa_tui.db.models import Action, Person, Team
    from tests.pilot import make_app, make_context, settle, url_of

    with db.session() as s:
        team = Team(code="A1", name="Assessment [1]")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan [/] Pryce", role="TM", team_id=team.id)
        s.add(tm)
        s.flush()
        s.add(Action(title=TITLE, owner_id=tm.id, team_id=team.id, raised_by_id=tm.id,
                     raised_on=today - timedelta(days=60), due_on=today - timedelta(days=30)))
    ctx = make_context(url_of(db), today=today, staff_id="TM1")
    async with make_app(ctx).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dashboard = screen_lines(pilot.app)
        assert "Chronology [see no" in dashboard and "Morgan [/] Pryce" in dashboard
        await pilot.press("t")
        await settle(pilot)
        assert "Chronology [see note] and [/]" in screen_lines(pilot.app)


def test_literal_keeps_the_styles_of_text_it_makes_safe() -> None:
    styled = Text.assemble(("Bold", "bold"), " then \x1b[2J")
    safe = literal(styled)
    assert safe.plain == "Bold then ␛[2J" and safe.spans == styled.spans and styled.plain.endswith("\x1b[2J")
    longer = literal(Text.assemble(("Bold", "bold"), " \u202e"))
    assert longer.plain == "Bold <U+202E>" and longer.spans == []
    content = literal(Content.from_markup("[b]Bold[/b] \x1b"))
    assert content.plain == "Bold ␛" and content.spans == Content.from_markup("[b]Bold[/b] \x1b").spans


def test_counts_read_as_english() -> None:
    from qa_tui.text import plural

    assert [plural(1, "day"), plural(0, "day"), plural(12, "day")] == ["1 day", "0 days", "12 days"]
    assert plural(1, "open action") == "1 open action" and plural(2, "child", "children") == "2 children"
