"""Themed and multi-agency audits: a named theme with its own template, its case list chosen by
rule or by hand, cases given out to auditors, audits started with the theme's template, and what a
multi-agency audit found about each agency."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.config import AUDIT_KIND_NAMES, Config, Template
from qa_tui.db.models import THEME_KINDS, AgencyFinding, Audit, Case, Person, Team, Theme, ThemeCase
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.record import STATUS_LABELS, AuditDTO, get_audit, load_audit, start_audit
from qa_tui.services.audits.theme_rules import MAX_CASES_BY_RULE, AppliedRules, CaseRule, cases_matching


# --- themes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeView:
    id: uuid.UUID
    version: int
    kind: str
    name: str
    description: str
    template_key: str
    requested_by: str
    created_on: date
    status: str
    rules: tuple[AppliedRules, ...]  # oldest first
    agencies: tuple[str, ...]
    learning: str

    @property
    def kind_name(self) -> str:
        return AUDIT_KIND_NAMES[self.kind]


@dataclass(frozen=True)
class ThemeSummary:
    theme: ThemeView
    cases: int
    assigned: int
    started: int
    completed: int  # sent for moderation or beyond


def theme_templates(cfg: Config, kind: str) -> list[Template]:
    """The templates a theme of this kind may use, as the config lists them."""
    return [t for t in cfg.templates if t.kind == kind]


def theme_template(cfg: Config, kind: str, key: str | None = None) -> Template:
    """The template a theme's audits use: `key`, or the built-in one for the kind."""
    key = key or kind
    try:
        template = cfg.template(key)
    except KeyError:
        raise ValidationError("template", f"no template has the key {key!r} (see [[templates]] in the config)") from None
    if template.kind != kind:
        raise ValidationError("template", f"{template.name} is a {template.kind} template; a {AUDIT_KIND_NAMES[kind].lower()} "
                              f"needs a template of kind {kind}")
    return template


def create_theme(session: Session, *, name: str, kind: str = "themed", description: str = "",
                 template_key: str | None = None, requested_by: str = "", agencies: Iterable[str] = (),
                 today: date, cfg: Config) -> ThemeView:
    """A new open theme. A multi-agency audit names the agencies taking part."""
    if kind not in THEME_KINDS:
        raise ValidationError("kind", f"expected one of {', '.join(THEME_KINDS)}, got {kind!r}")
    if not name.strip():
        raise ValidationError("name", "a theme needs a name, such as “CP plans ending within 3 months”")
    template = theme_template(cfg, kind, template_key)
    agency_list = clean_agencies(agencies)
    if kind == "multi_agency" and not agency_list:
        raise ValidationError("agencies", "name the agencies taking part, separated by commas")
    row = Theme(kind=kind, name=name.strip(), description=description.strip(), template_key=template.key,
                requested_by=requested_by.strip(), created_on=today, status="open", rules=[],
                agencies=agency_list, learning="")
    session.add(row)
    session.flush()
    return _view(row)


def clean_agencies(agencies: Iterable[str] | str) -> list[str]:
    """Agency names, trimmed, blanks and repeats (ignoring case) dropped, in the order given."""
    if isinstance(agencies, str):
        agencies = agencies.split(",")
    seen: dict[str, str] = {}
    for agency in agencies:
        text = " ".join(str(agency).split())
        if text:
            seen.setdefault(text.casefold(), text)
    return list(seen.values())


def get_theme(session: Session, theme_id: uuid.UUID) -> ThemeView:
    return _view(_load(session, theme_id))


def list_themes(session: Session, *, kind: str | None = None, include_closed: bool = True) -> list[ThemeSummary]:
    """Themes newest first, each with its case count and how far its audits have got."""
    stmt = select(Theme).order_by(Theme.created_on.desc(), Theme.name)
    if kind is not None:
        stmt = stmt.where(Theme.kind == kind)
    if not include_closed:
        stmt = stmt.where(Theme.status == "open")
    themes = session.scalars(stmt).all()
    counts: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    if themes:
        rows = session.execute(
            select(ThemeCase.theme_id, ThemeCase.auditor_id, Audit.status)
            .outerjoin(Audit, Audit.id == ThemeCase.audit_id)
            .where(ThemeCase.theme_id.in_([t.id for t in themes])))
        for theme_id, auditor_id, status in rows:
            tally = counts[theme_id]
            tally["cases"] += 1
            tally["assigned"] += auditor_id is not None
            tally["started"] += status is not None
            tally["completed"] += status in ("submitted", "moderated", "finalised")
    return [ThemeSummary(_view(t), counts[t.id]["cases"], counts[t.id]["assigned"], counts[t.id]["started"],
                         counts[t.id]["completed"]) for t in themes]


def set_theme_learning(session: Session, theme_id: uuid.UUID, learning: str, *,
                       expected_version: int | None = None) -> ThemeView:
    """The learning fed back from the theme (to the partnership, for a multi-agency audit)."""
    theme = _load(session, theme_id, expected_version)
    theme.learning = learning.strip()
    _flush(session, theme)
    return _view(theme)


def close_theme(session: Session, theme_id: uuid.UUID, *, expected_version: int | None = None) -> ThemeView:
    """No more cases or audits; drafts already started can still be finished."""
    theme = _load(session, theme_id, expected_version)
    theme.status = "closed"
    _flush(session, theme)
    return _view(theme)


# --- the case list --------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeCaseRow:
    id: uuid.UUID
    version: int
    case_id: uuid.UUID
    reference: str
    category: str
    team_code: str
    worker_name: str
    auditor_id: uuid.UUID | None
    auditor_name: str
    audit_id: uuid.UUID | None
    audit_status: str  # "" until started
    added_by_rule: bool

    @property
    def status_label(self) -> str:
        if self.audit_status:
            return STATUS_LABELS[self.audit_status]
        return "Not started" if self.auditor_id else "Not given to anyone"


@dataclass(frozen=True)
class AddedCases:
    added: int
    already: int  # matched but already in the list
    references: tuple[str, ...]  # the cases added, by reference


def add_cases_by_rule(session: Session, theme_id: uuid.UUID, rules: Sequence[CaseRule], today: date) -> AddedCases:
    """Add every open case meeting all `rules` on `today`; the rules are kept with the theme."""
    theme = _open_theme(session, theme_id)
    matching = cases_matching(session, rules, today, limit=MAX_CASES_BY_RULE + 1)
    if len(matching) > MAX_CASES_BY_RULE:
        raise ValidationError("rules", f"more than {MAX_CASES_BY_RULE} open cases match; narrow the rules "
                              "(a theme is a sample to audit, at most that many cases)")
    present = set(session.scalars(select(ThemeCase.case_id).where(ThemeCase.theme_id == theme.id)))
    added = [c for c in matching if c.case_id not in present]
    for choice in added:
        session.add(ThemeCase(theme_id=theme.id, case_id=choice.case_id, added_by_rule=True))
    theme.rules = [*theme.rules, AppliedRules(tuple(rules), today, len(added)).as_json()]
    _flush(session, theme)
    return AddedCases(len(added), len(matching) - len(added), tuple(c.reference for c in added))


def add_case_by_reference(session: Session, theme_id: uuid.UUID, reference: str) -> ThemeCaseRow:
    """Add one case picked by hand (any case, open or closed)."""
    theme = _open_theme(session, theme_id)
    reference = reference.strip()
    case_id = session.scalar(select(Case.id).where(Case.reference == reference))
    if case_id is None:
        raise ValidationError("case reference", f"no case has the reference {reference!r}")
    if session.scalar(select(ThemeCase.id).where(ThemeCase.theme_id == theme.id, ThemeCase.case_id == case_id)):
        raise ValidationError("case reference", f"{reference} is already in the theme “{theme.name}”")
    row = ThemeCase(theme_id=theme.id, case_id=case_id, added_by_rule=False)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ChangedElsewhere(f"The case list of “{theme.name}”") from None
    return _case_rows(session, theme.id, only=row.id)[0]


def remove_case(session: Session, theme_case_id: uuid.UUID) -> None:
    """Take a case out of the list, unless its audit has been started."""
    row = _load_case(session, theme_case_id)
    if row.audit_id is not None:
        raise NotAllowed("The audit of this case has been started; it stays in the theme.")
    session.delete(row)
    session.flush()


def theme_cases(session: Session, theme_id: uuid.UUID) -> list[ThemeCaseRow]:
    _load(session, theme_id)
    return _case_rows(session, theme_id)


def assign_case(session: Session, theme_case_id: uuid.UUID, auditor_id: uuid.UUID | None, *,
                expected_version: int | None = None) -> ThemeCaseRow:
    """Give a case to an auditor (None: take it back), until its audit has started."""
    row = _load_case(session, theme_case_id)
    if expected_version is not None and row.version != expected_version:
        raise ChangedElsewhere("This case of the theme")
    if row.audit_id is not None:
        raise NotAllowed("The audit of this case has been started; it stays with its auditor.")
    if auditor_id is not None and session.get(Person, auditor_id) is None:
        raise ValidationError("auditor", f"no person with id {auditor_id}")
    row.auditor_id = auditor_id
    _flush(session, row)
    return _case_rows(session, row.theme_id, only=row.id)[0]


def assign_evenly(session: Session, theme_id: uuid.UUID, auditor_ids: Sequence[uuid.UUID]) -> int:
    """Share the unassigned cases out, in reference order, each to the auditor who has fewest
    (ties: in the order given). Returns how many were given out."""
    theme = _open_theme(session, theme_id)
    auditors = list(dict.fromkeys(auditor_ids))
    if not auditors:
        raise ValidationError("auditors", "choose at least one auditor")
    known = set(session.scalars(select(Person.id).where(Person.id.in_(auditors))))
    if missing := [a for a in auditors if a not in known]:
        raise ValidationError("auditors", f"no person with id {missing[0]}")
    rows = session.execute(select(ThemeCase, Case.reference).join(Case, Case.id == ThemeCase.case_id)
                           .where(ThemeCase.theme_id == theme.id)).all()
    load = Counter(r.auditor_id for r, _ in rows if r.auditor_id in known)
    waiting = sorted(((r, ref) for r, ref in rows if r.auditor_id is None and r.audit_id is None), key=lambda x: x[1])
    for row, _ in waiting:
        chosen = min(auditors, key=lambda a: (load[a], auditors.index(a)))
        row.auditor_id = chosen
        load[chosen] += 1
    _flush(session, theme)
    return len(waiting)


def start_theme_audit(session: Session, theme_case_id: uuid.UUID, auditor_id: uuid.UUID, *,
                      today: date, cfg: Config) -> AuditDTO:
    """Start (or resume) the audit of a case in a theme, with the theme's template. A case given
    to someone else is theirs to audit."""
    row = _load_case(session, theme_case_id)
    if row.audit_id is not None:
        return get_audit(session, row.audit_id, today=today, cfg=cfg)
    theme = _open_theme(session, row.theme_id)
    if row.auditor_id is not None and row.auditor_id != auditor_id:
        owner = session.get(Person, row.auditor_id)
        raise NotAllowed(f"This case is given to {owner.name if owner else 'someone else'} to audit.")
    case = session.get(Case, row.case_id)
    assert case is not None
    audit = start_audit(session, kind=theme.kind, template=theme_template(cfg, theme.kind, theme.template_key),
                        case_id=case.id, worker_id=case.worker_id, auditor_id=auditor_id, team_id=case.team_id,
                        audit_date=today, today=today, cfg=cfg)
    row.auditor_id, row.audit_id = auditor_id, audit.id
    _flush(session, row)
    return audit


def theme_of_audit(session: Session, audit_id: uuid.UUID) -> ThemeView | None:
    theme = session.scalar(select(Theme).join(ThemeCase, ThemeCase.theme_id == Theme.id)
                           .where(ThemeCase.audit_id == audit_id))
    return _view(theme) if theme else None


# --- multi-agency findings ------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyFindingView:
    id: uuid.UUID
    version: int
    audit_id: uuid.UUID
    agency: str
    finding: str
    learning: str


def set_agency_finding(session: Session, audit_id: uuid.UUID, agency: str, *, finding: str,
                       learning: str = "") -> AgencyFindingView:
    """What a multi-agency audit found about one agency, and the learning fed back to it. The
    agency must be one of the theme's; findings can be added until the audit is finalised."""
    audit = load_audit(session, audit_id)
    if audit.kind != "multi_agency":
        raise NotAllowed("Agency findings belong to multi-agency audits.")
    if audit.status == "finalised":
        raise NotAllowed("This audit is finalised; its findings can no longer be changed.")
    agency = " ".join(agency.split())
    if not agency:
        raise ValidationError("agency", "name the agency")
    theme = theme_of_audit(session, audit_id)
    if theme is not None:
        named = {a.casefold(): a for a in theme.agencies}
        if agency.casefold() not in named:
            raise ValidationError("agency", f"{agency!r} is not taking part in “{theme.name}”; "
                                  f"expected one of {', '.join(theme.agencies)}")
        agency = named[agency.casefold()]
    if not finding.strip():
        raise ValidationError("finding", f"say what the audit found about {agency}'s part")
    row = session.scalar(select(AgencyFinding).where(AgencyFinding.audit_id == audit_id,
                                                     AgencyFinding.agency == agency))
    if row is None:
        row = AgencyFinding(audit_id=audit_id, agency=agency)
        session.add(row)
    row.finding, row.learning = finding.strip(), learning.strip()
    try:
        session.flush()
    except (IntegrityError, StaleDataError):
        raise ChangedElsewhere(f"The finding about {agency}") from None
    return _finding_view(row)


def agency_findings(session: Session, audit_id: uuid.UUID) -> list[AgencyFindingView]:
    rows = session.scalars(select(AgencyFinding).where(AgencyFinding.audit_id == audit_id)
                           .order_by(AgencyFinding.agency))
    return [_finding_view(r) for r in rows]


# --- helpers --------------------------------------------------------------------------------


def _load(session: Session, theme_id: uuid.UUID, expected_version: int | None = None) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None:
        raise NotFound(f"Theme {theme_id} does not exist.")
    if expected_version is not None and theme.version != expected_version:
        raise ChangedElsewhere(f"The theme “{theme.name}”")
    return theme


def _open_theme(session: Session, theme_id: uuid.UUID) -> Theme:
    theme = _load(session, theme_id)
    if theme.status != "open":
        raise NotAllowed(f"The theme “{theme.name}” is closed.")
    return theme


def _load_case(session: Session, theme_case_id: uuid.UUID) -> ThemeCase:
    row = session.get(ThemeCase, theme_case_id)
    if row is None:
        raise NotFound(f"Case {theme_case_id} is not in any theme.")
    return row


def _flush(session: Session, row: Theme | ThemeCase) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere("This theme" if isinstance(row, Theme) else "This case of the theme") from None


def _case_rows(session: Session, theme_id: uuid.UUID, only: uuid.UUID | None = None) -> list[ThemeCaseRow]:
    worker, auditor = aliased(Person), aliased(Person)
    stmt = (select(ThemeCase, Case.reference, Case.category, Team.code, worker.name, auditor.name, Audit.status)
            .join(Case, Case.id == ThemeCase.case_id).outerjoin(Team, Team.id == Case.team_id)
            .outerjoin(worker, worker.id == Case.worker_id).outerjoin(auditor, auditor.id == ThemeCase.auditor_id)
            .outerjoin(Audit, Audit.id == ThemeCase.audit_id)
            .where(ThemeCase.theme_id == theme_id).order_by(Case.reference))
    if only is not None:
        stmt = stmt.where(ThemeCase.id == only)
    return [ThemeCaseRow(tc.id, tc.version, tc.case_id, ref, cat, code or "", wname or "", tc.auditor_id,
                         aname or "", tc.audit_id, status or "", tc.added_by_rule)
            for tc, ref, cat, code, wname, aname, status in session.execute(stmt)]


def _view(t: Theme) -> ThemeView:
    return ThemeView(t.id, t.version, t.kind, t.name, t.description, t.template_key, t.requested_by, t.created_on,
                     t.status, tuple(AppliedRules.from_json(r) for r in t.rules), tuple(t.agencies), t.learning)


def _finding_view(row: AgencyFinding) -> AgencyFindingView:
    return AgencyFindingView(row.id, row.version, row.audit_id, row.agency, row.finding, row.learning)
