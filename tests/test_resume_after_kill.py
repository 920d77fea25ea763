"""A laptop dies mid-meeting: the app killed with SIGKILL while a live audit is being typed.
On restart it offers to resume at the same case, and nothing entered before the last field
change is lost. A real process in a pseudo-terminal, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.pilot import become
from tests.terminal import Terminal, app_env, qa_tui_command

MEETING_DAY = "2026-12-03"
TYPING = "Esc when done"  # on the border of the field being typed in


def test_killed_mid_audit_resumes_with_nothing_lost(db: Database, tmp_path: Path) -> None:
    build_demo(db, today=date(2026, 11, 24), cases=800)
    url = db.engine.url.render_as_string(hide_password=False)
    become(url, DEMO_USER_STAFF_ID)  # the team manager, as the database knows who you are
    config = tmp_path / "config.toml"
    config.write_text(f'[user]\nstaff_id = "{DEMO_USER_STAFF_ID}"\n')
    env = app_env(config, tmp_path / "data")
    command = qa_tui_command("--db", url, "--today", MEETING_DAY)

    first = Terminal(command, env)
    try:
        first.wait_for("Live audits this month")
        first.press("l")
        first.wait_for("No draw for this team")
        first.press("n")
        first.wait_for("Draw one case at random")
        first.press("y")
        first.wait_for("Drew")
        first.forget()
        first.press("\r")
        first.wait_for("Case 1 of")
        first.press("2312")  # four domains graded
        first.forget()
        first.press("w")
        first.wait_for(TYPING)  # the field shows it is being typed in, as a person would wait for
        first.press("Saved before the crash", pause=0.03)
        first.read_for(1.5)  # the field saves after a short pause in typing
        first.press("\x1b", pause=0.5)  # Esc leaves the field
        first.forget()
        first.press("i")
        first.wait_for(TYPING)
        first.press("Typed then killed", pause=0.03)
        first.read_for(1.0)
    finally:
        first.kill()

    with db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.audit_date == date(2026, 12, 3)))
        assert audit is not None and audit.status == "draft"
        assert audit.strengths == "Saved before the crash"
        grades = s.scalars(select(AuditGrade.grade).where(
            AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None))).all()
        assert sorted(grades) == [0, 1, 1, 2]
        audit_id = audit.id

    second = Terminal(command, env)
    try:
        second.wait_for("Live audits this month")
        second.press("l")
        second.wait_for("Resume the live audit")
        second.press("y")
        second.wait_for("Case 1 of")
        second.wait_for("Resumed where the meeting stopped")
        second.read_for(1.5)
    finally:
        second.kill()
    with db.reader() as s:
        audit = s.get(Audit, audit_id)
        assert audit.strengths == "Saved before the crash"
        assert audit.to_improve == "Typed then killed"
