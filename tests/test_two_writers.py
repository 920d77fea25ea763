"""Two people saving the same record at once: exactly one save wins, the other gets
ChangedElsewhere and the database holds the winner's value, never a silent overwrite. Transient
serialization failures and deadlocks are retried as whole transactions, a bounded number of times."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from qa_tui.db.engine import Database, is_transient
from qa_tui.db.models import Action, Audit, AuditEvent, Team
from qa_tui.errors import ChangedElsewhere
from qa_tui.services.audits import actions
from qa_tui.services.audits import record as audits
from tests.test_audits import CFG, seed_org, start

POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def race(db: Database, saves: dict[str, Callable[[Session], Any]], *, meet_at_flush: bool) -> dict[str, Any]:
    """Run each save in its own thread and transaction, released together by a barrier. With
    `meet_at_flush`, each waits again just before writing, so both have read the record before
    either writes (the hard case). Returns name → result or the exception raised."""
    barrier = threading.Barrier(len(saves))
    outcome: dict[str, Any] = {}

    def run(name: str, save: Callable[[Session], Any]) -> None:
        try:
            barrier.wait(timeout=20)
            with db.session() as session:
                if meet_at_flush:
                    met = []

                    def meet(*_: Any) -> None:
                        if not met:
                            met.append(True)
                            barrier.wait(timeout=20)

                    event.listen(session, "before_flush", meet)
                outcome[name] = save(session)
        except BaseException as exc:  # noqa: BLE001 - the outcome under test
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=item) for item in saves.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def one_winner(outcome: dict[str, Any]) -> str:
    losers = [name for name, result in outcome.items() if isinstance(result, BaseException)]
    assert len(losers) == 1, outcome
    assert isinstance(outcome[losers[0]], ChangedElsewhere), outcome
    assert "changed by someone else" in str(outcome[losers[0]])
    return next(name for name in outcome if name not in losers)


@POSTGRESQL_ONLY
@pytest.mark.parametrize("meet_at_flush", [False, True], ids=["released-together", "both-read-first"])
def test_two_people_saving_the_same_audit_field(db: Database, today: date, meet_at_flush: bool) -> None:
    org = seed_org(db)
    for attempt in range(3):  # a few rounds: the interleaving differs from one to the next
        dto = start(db, org, today, audit_date=date(2026, 11, 1 + attempt))
        outcome = race(db, {
            who: (lambda s, text=f"{who}'s strengths", audit=dto: audits.set_text(
                s, audit.id, "strengths", text, expected_version=audit.version))
            for who in ("Alex", "Blair")
        }, meet_at_flush=meet_at_flush)
        winner = one_winner(outcome)
        with db.reader() as s:
            stored = s.get(Audit, dto.id)
            assert stored.strengths == f"{winner}'s strengths"
            assert stored.version == outcome[winner].version == dto.version + 1
            updates = s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.record_id == str(dto.id), AuditEvent.action == "update"))
        assert updates == 1, "the loser left nothing on the trail either"


@POSTGRESQL_ONLY
@pytest.mark.parametrize("change", ["extend", "complete"])
def test_two_people_changing_the_same_action_at_once(db: Database, today: date, change: str) -> None:
    org = seed_org(db)
    with db.session() as s:
        row = actions.add_action(s, title="Update the chronology", owner_id=org.worker_id,
                                 raised_by_id=org.auditor_id, today=today, cfg=CFG)

    def save(who: str, days: int) -> Callable[[Session], Any]:
        if change == "extend":
            return lambda s: actions.extend_action(s, row.id, date(2027, 1, days), f"{who}: leave", org.auditor_id, today)
        return lambda s: actions.complete_action(s, row.id, f"{who}: chronology updated", org.auditor_id, today)

    outcome = race(db, {"Alex": save("Alex", 10), "Blair": save("Blair", 20)}, meet_at_flush=True)
    winner = one_winner(outcome)
    with db.reader() as s:
        stored = s.get(Action, row.id)
        history = actions.action_history(s, row.id)
    assert stored.version == row.version + 1
    assert [h.reason.split(":")[0] for h in history] == [winner]
    if change == "extend":
        assert stored.due_on == date(2027, 1, 10 if winner == "Alex" else 20)
    else:
        assert stored.status == "done" and stored.evidence.startswith(winner)


def test_a_save_from_a_stale_view_of_an_audit_is_refused(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        audits.set_text(s, dto.id, "strengths", "Alex's words", expected_version=dto.version)
    with db.session() as s, pytest.raises(ChangedElsewhere, match="changed by someone else"):
        audits.set_text(s, dto.id, "strengths", "Blair's words", expected_version=dto.version)
    with db.reader() as s:
        assert s.get(Audit, dto.id).strengths == "Alex's words"


def test_a_save_from_a_stale_view_of_an_action_is_refused(db: Database, today: date) -> None:
    """Blair's screen still shows the action as Alex found it; Blair's extension must not
    silently replace Alex's. Needs `expected_version` on the action changes (see SECURITY.md)."""
    org = seed_org(db)
    with db.session() as s:
        seen = actions.add_action(s, title="Update the chronology", owner_id=org.worker_id,
                                  raised_by_id=org.auditor_id, today=today, cfg=CFG)
    with db.session() as s:
        actions.extend_action(s, seen.id, date(2027, 1, 10), "Alex: leave", org.auditor_id, today,
                              expected_version=seen.version)
    with db.session() as s, pytest.raises(ChangedElsewhere, match="changed by someone else"):
        actions.extend_action(s, seen.id, date(2027, 1, 20), "Blair: court", org.auditor_id, today,
                              expected_version=seen.version)
    with db.session() as s, pytest.raises(ChangedElsewhere):
        actions.complete_action(s, seen.id, "Blair: done", org.auditor_id, today, expected_version=seen.version)
    with db.reader() as s:
        stored = s.get(Action, seen.id)
    assert (stored.due_on, stored.status) == (date(2027, 1, 10), "open")


# --- retrying transient failures ------------------------------------------------------------


class _Transient(Exception):
    sqlstate = "40001"


def transient_error() -> OperationalError:
    return OperationalError("COMMIT", {}, _Transient("could not serialize access"))


def test_transient_failures_are_retried_as_whole_transactions_a_bounded_number_of_times(db: Database) -> None:
    calls: list[int] = []

    def flaky(session: Session) -> str:
        calls.append(1)
        session.add(Team(code=f"T{len(calls)}", name="attempt"))
        session.flush()
        if len(calls) < 3:
            raise transient_error()
        return "saved"

    assert db.run_in_transaction(flaky, attempts=3) == "saved"
    with db.reader() as s:  # each failed attempt was rolled back whole, its trail event with it
        assert s.scalars(select(Team.code)).all() == ["T3"]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.table_name == "team")) == 1

    def always_transient(session: Session) -> None:
        calls.append(1)
        raise transient_error()

    calls.clear()
    with pytest.raises(OperationalError) as raised:
        db.run_in_transaction(always_transient, attempts=2)
    assert is_transient(raised.value) and len(calls) == 2


def test_other_failures_are_not_retried(db: Database) -> None:
    calls: list[int] = []

    def duplicate(session: Session) -> None:
        calls.append(1)
        session.add_all([Team(code="SAME", name="a"), Team(code="SAME", name="b")])
        session.flush()

    with pytest.raises(IntegrityError):
        db.run_in_transaction(duplicate)
    assert len(calls) == 1 and not is_transient(IntegrityError("x", {}, Exception()))


@POSTGRESQL_ONLY
def test_a_real_serialization_failure_is_retried(db: Database) -> None:
    """Two SERIALIZABLE transactions each count the teams and add one (write skew). A commits
    first; PostgreSQL aborts B, which is retried from the start, sees A's team, and both end up
    stored. The steps are ordered by events, not timing, so load cannot change the outcome."""
    counted = {"A": threading.Event(), "B": threading.Event()}
    a_committed = threading.Event()
    attempts: dict[str, int] = {}
    errors: list[BaseException] = []

    def add_after_counting(name: str) -> Callable[[Session], int]:
        other = "B" if name == "A" else "A"

        def work(session: Session) -> int:
            attempts[name] = attempts.get(name, 0) + 1
            session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
            seen = session.scalar(select(func.count()).select_from(Team))
            if attempts[name] == 1:
                counted[name].set()
                assert counted[other].wait(timeout=60)  # both have counted before either adds
                if name == "B":
                    assert a_committed.wait(timeout=60)  # B writes only after A has committed
            session.add(Team(code=name, name=f"saw {seen}"))
            session.flush()
            return seen
        return work

    def run(name: str) -> None:
        try:
            db.run_in_transaction(add_after_counting(name), attempts=3)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            if name == "A":
                a_committed.set()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert attempts == {"A": 1, "B": 2}, attempts
    with db.reader() as s:
        saw = dict(s.execute(select(Team.code, Team.name)).all())
    assert saw == {"A": "saw 0", "B": "saw 1"}


def test_transient_means_serialization_failure_or_deadlock_only() -> None:
    class Deadlock(Exception):
        sqlstate = "40P01"

    class Unique(Exception):
        sqlstate = "23505"

    assert is_transient(OperationalError("x", {}, Deadlock()))
    assert not is_transient(IntegrityError("x", {}, Unique()))
    assert not is_transient(ValueError("no sqlstate"))
