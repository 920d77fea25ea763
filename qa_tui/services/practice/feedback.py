"""Feedback from children, families and professionals: recording it (with a supervision
follow-up for the worker), summaries by period and team, and the QR code for the feedback form."""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from qa_tui.db.models import FEEDBACK_CHANNELS, FEEDBACK_GIVERS, Case, Feedback, Person
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.practice.followups import raise_follow_up
from qa_tui.services.practice.observations import ThemeCount, clean_themes, count_themes

GIVER_LABELS = {
    "child": "a child",
    "young_person": "a young person",
    "parent": "a parent",
    "carer": "a carer",
    "professional": "a professional",
}
RATINGS = range(1, 6)
FORM_URL_KEY = "feedback.form_url"


@dataclass(frozen=True)
class FeedbackView:
    id: uuid.UUID
    version: int
    received_on: date
    case_reference: str | None
    worker_id: uuid.UUID | None
    giver: str
    channel: str
    rating: int | None
    said: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class FeedbackSummary:
    since: date
    until: date
    received: int
    rated: int
    average_rating: float | None
    rating_counts: tuple[tuple[int, int], ...]  # (rating, count) for 1..5
    by_giver: tuple[tuple[str, int], ...]  # every giver, in FEEDBACK_GIVERS order
    by_channel: tuple[tuple[str, int], ...]  # every channel, in FEEDBACK_CHANNELS order
    themes: tuple[ThemeCount, ...]


def record_feedback(session: Session, *, received_on: date, case_id: uuid.UUID | None = None,
                    worker_id: uuid.UUID | None = None, giver: str, channel: str,
                    rating: int | None = None, said: str = "", themes: Iterable[str] = (),
                    today: date, record_id: uuid.UUID | None = None) -> FeedbackView:
    """Record one piece of feedback. With a case and no worker, it is about the case's allocated
    worker. When there is a worker, a follow-up puts it on their next supervision agenda.
    `record_id` (a form's draft) is the id it takes: recorded once, the same draft again returns it."""
    if record_id is not None and (recorded := session.get(Feedback, record_id)) is not None:
        return _feedback_view(session, recorded)
    if giver not in FEEDBACK_GIVERS:
        raise ValidationError("giver", f"expected one of {', '.join(FEEDBACK_GIVERS)}, got {giver!r}")
    if channel not in FEEDBACK_CHANNELS:
        raise ValidationError("channel", f"expected one of {', '.join(FEEDBACK_CHANNELS)}, got {channel!r}")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS):
        raise ValidationError("rating", f"expected a whole number from 1 (poor) to 5 (excellent), got {rating!r}")
    if not isinstance(received_on, date) or isinstance(received_on, datetime):
        raise ValidationError("received_on", f"expected a date, got {received_on!r}")
    if received_on > today:
        raise ValidationError("received_on", f"{received_on.isoformat()} is in the future")
    if not isinstance(said, str):
        raise ValidationError("said", "expected text")
    if rating is None and not said.strip():
        raise ValidationError("said", "record what was said, a rating, or both")
    case = None
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        worker_id = worker_id or case.worker_id
    if worker_id is not None and session.get(Person, worker_id) is None:
        raise NotFound(f"Worker {worker_id} does not exist.")

    row = Feedback(id=record_id or uuid.uuid4(), received_on=received_on, case_id=case_id, worker_id=worker_id,
                   giver=giver, channel=channel, rating=rating, said=said, themes=clean_themes(themes))
    session.add(row)
    if worker_id is not None:
        rated = f", rated {rating}/5" if rating is not None else ""
        on_case = f" about case {case.reference}" if case else ""
        raise_follow_up(session, worker_id=worker_id, source_kind="feedback", source_id=row.id,
                        summary=f"Feedback from {GIVER_LABELS[giver]}{on_case} received "
                                f"{received_on.isoformat()}{rated}", today=today, event_on=received_on)
    session.flush()
    return _feedback_view(session, row)


def _feedback_view(session: Session, row: Feedback) -> FeedbackView:
    case = session.get(Case, row.case_id) if row.case_id is not None else None
    return FeedbackView(id=row.id, version=row.version, received_on=row.received_on,
                        case_reference=case.reference if case else None, worker_id=row.worker_id,
                        giver=row.giver, channel=row.channel, rating=row.rating, said=row.said,
                        themes=tuple(row.themes))


def feedback_summary(session: Session, since: date, until: date,
                     team_id: uuid.UUID | None = None) -> FeedbackSummary:
    """Feedback received from `since` to `until` inclusive. With a team: feedback about a worker
    in that team, or about a case of that team when no worker is named."""
    worker = aliased(Person)
    stmt = (select(Feedback).outerjoin(worker, Feedback.worker_id == worker.id)
            .outerjoin(Case, Feedback.case_id == Case.id)
            .where(Feedback.received_on >= since, Feedback.received_on <= until))
    if team_id is not None:
        stmt = stmt.where((worker.team_id == team_id) | (worker.id.is_(None) & (Case.team_id == team_id)))
    rows = session.scalars(stmt).all()
    ratings = [f.rating for f in rows if f.rating is not None]
    rating_counts = Counter(ratings)
    givers = Counter(f.giver for f in rows)
    channels = Counter(f.channel for f in rows)
    return FeedbackSummary(
        since=since, until=until, received=len(rows), rated=len(ratings),
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        rating_counts=tuple((r, rating_counts[r]) for r in RATINGS),
        by_giver=tuple((g, givers[g]) for g in FEEDBACK_GIVERS),
        by_channel=tuple((c, channels[c]) for c in FEEDBACK_CHANNELS),
        themes=tuple(count_themes(f.themes or () for f in rows)),
    )


def feedback_qr_text(url: str) -> str:
    """The feedback form's QR code drawn with half-block characters, for a terminal."""
    import segno

    out = io.StringIO()
    segno.make(_form_url(url), micro=False).terminal(out=out, compact=True)
    return out.getvalue()


def save_feedback_qr_png(url: str, path: Path | str) -> Path:
    """Write the feedback form's QR code as a PNG readable only by its owner (mode 0600).
    The file is written beside its destination and renamed into place."""
    import segno

    target = Path(path).expanduser()
    qr = segno.make(_form_url(url), micro=False)
    try:
        fd, temp_name = tempfile.mkstemp(prefix=".qr-", suffix=".png", dir=target.parent)  # made 0600
    except OSError as exc:
        raise ValidationError("path", f"cannot write a file in {target.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            qr.save(fh, kind="png", scale=8, border=4)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def _form_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError(FORM_URL_KEY, "set [feedback] form_url in the config file")
    if not url.startswith(("https://", "http://")):
        raise ValidationError(FORM_URL_KEY, f"expected an https:// address, got {url!r}")
    return url
