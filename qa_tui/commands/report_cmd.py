"""`qa-tui report`: the monthly and quarterly QA reports (Markdown, HTML, or CSV / XLSX for Power BI), the
focused dip sample, observation, feedback and improvement reports, what a person owes under the QA
programme, programme compliance per team or role, and CP plan reviews."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from qa_tui.commands.common import open_ctx

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.context import AppContext
    from qa_tui.services.programme.compliance import Compliance
    from qa_tui.services.programme.obligations import Obligations
    from qa_tui.services.programme.periods import Period

ITEMS_SHOWN = 10
T = TypeVar("T")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report", help="QA reports, what you owe, programme compliance",
        description="Monthly and quarterly reports (Markdown or HTML; CSV files or XLSX for Power BI), "
                    "what a person owes under the QA programme, compliance per team or role, and the "
                    "CP plan review list. Quarters are financial: 2026-Q1 is April to June 2026.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    monthly = verbs.add_parser("monthly", help="the report for one month")
    monthly.add_argument("--month", metavar="YYYY-MM", help="the month (default: last month)")
    quarterly = verbs.add_parser("quarterly", help="the report for one financial quarter")
    quarterly.add_argument("--quarter", metavar="YYYY-Qn", required=True,
                           help="financial quarter: 2026-Q1 is April–June 2026, 2026-Q4 is January–March 2027")
    for verb, run in ((monthly, run_monthly), (quarterly, run_quarterly)):
        verb.add_argument("--format", choices=("md", "html", "csv", "xlsx"), default="md",
                          help="md: Markdown, html: one HTML page (printed unless --out); csv: one file per "
                               "table, xlsx: one sheet per table (both need --out)")
        verb.add_argument("--out", metavar="DIR", help="write the files into DIR (made 0700 if new)")
        verb.set_defaults(func=run)

    dips = verbs.add_parser("dip-samples", help="monthly dip sample report (Markdown)")
    dips.add_argument("--month", metavar="YYYY-MM", help="the month (default: last month)")
    observed = verbs.add_parser("observations", help="twice-yearly practice observation report (Markdown)")
    observed.add_argument("--half", metavar="YYYY-Hn", required=True,
                          help="half financial year: 2026-H1 is April–September 2026, 2026-H2 October 2026–March 2027")
    feedback = verbs.add_parser("feedback", help="quarterly family feedback report (Markdown)")
    improvement = verbs.add_parser("improvement", help="quarterly practice improvement overview (Markdown)")
    for verb in (feedback, improvement):
        verb.add_argument("--quarter", metavar="YYYY-Qn", required=True,
                          help="financial quarter: 2026-Q1 is April–June 2026")
    for verb in (dips, observed, feedback, improvement):
        verb.add_argument("--out", metavar="FILE", help="write the Markdown to FILE (0600) instead of printing it")
        verb.set_defaults(func=run_report_kind)

    owe = verbs.add_parser("owe", help="what a person owes under the QA programme (default: you)")
    owe.add_argument("--person", metavar="STAFF_ID", help="someone else's staff ID")
    owe.set_defaults(func=run_owe)

    comp = verbs.add_parser("compliance", help="QA programme compliance per team or role")
    comp.add_argument("--by", choices=("team", "role"), default="team", help="group by team (default) or role")
    comp.add_argument("--service", metavar="CODE", help="only the teams of this service (a head of service's view)")
    comp.set_defaults(func=run_compliance)

    impact = verbs.add_parser("impact", help="re-audits for impact: grade before and after, per team, in a quarter")
    impact.add_argument("--quarter", metavar="YYYY-Qn", required=True, help="financial quarter: 2026-Q1 is April–June")
    impact.set_defaults(func=run_impact)

    asye = verbs.add_parser("asye", help="each newly qualified worker's ASYE observation windows")
    asye.add_argument("--team", metavar="TEAM", help="only this team code")
    asye.set_defaults(func=run_asye)

    cp = verbs.add_parser("cp-reviews", help="children whose CP plan ended having lasted under 3 months, "
                                             "or has run 18 months or more")
    cp.add_argument("--team", metavar="TEAM", help="only this team code")
    cp.set_defaults(func=run_cp_reviews)


def _read(args: argparse.Namespace, compute: Callable[[Session, AppContext], T]) -> tuple[T, AppContext]:
    """What a report prints from: `compute` run in one read-only session, the database closed after."""
    ctx = open_ctx(args)
    try:
        with ctx.db.reader() as session:
            return compute(session, ctx), ctx
    finally:
        ctx.db.dispose()


def run_monthly(args: argparse.Namespace) -> int:
    from qa_tui.dates import Month
    from qa_tui.errors import ValidationError
    from qa_tui.services.programme.periods import month_period
    from qa_tui.services.reports.figures import last_complete_month

    ctx = open_ctx(args)
    try:
        if args.month:
            try:
                month = Month.parse(args.month)
            except ValueError as exc:
                raise ValidationError("--month", str(exc)) from None
        else:
            month = last_complete_month(ctx.today())
        return _report(ctx, args, month_period(month))
    finally:
        ctx.db.dispose()


def run_quarterly(args: argparse.Namespace) -> int:
    from qa_tui.services.programme.periods import parse_financial_quarter

    period = parse_financial_quarter(args.quarter)
    ctx = open_ctx(args)
    try:
        return _report(ctx, args, period)
    finally:
        ctx.db.dispose()


def _report(ctx: AppContext, args: argparse.Namespace, period: Period) -> int:
    from qa_tui.errors import ValidationError
    from qa_tui.services.reports.files import (
        export_report_html,
        export_report_xlsx,
        report_html,
    )
    from qa_tui.services.reports.figures import period_report
    from qa_tui.services.reports.markdown import export_report_markdown, report_markdown
    from qa_tui.services.reports.tables import export_report_csv

    if args.format in ("csv", "xlsx") and not args.out:
        raise ValidationError("--out", f"{args.format.upper()} export writes files; give a folder with --out DIR")
    today = ctx.today()
    if not args.out:
        with ctx.db.reader() as session:
            report = period_report(session, period, today, ctx.config)
            print(report_html(report) if args.format == "html" else report_markdown(report), end="")
        return 0
    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValidationError("--out", f"{out} is a file; give a folder")
    with ctx.db.session() as session:
        report = period_report(session, period, today, ctx.config)
        if args.format == "csv":
            paths = export_report_csv(session, report, out)
            print(f"Wrote {len(paths)} CSV files for {period.label} to {out}")
        elif args.format == "xlsx":
            print(f"Wrote {export_report_xlsx(session, report, out / f'qa-report-{period.label}.xlsx')}")
        elif args.format == "html":
            print(f"Wrote {export_report_html(session, report, out)}")
        else:
            print(f"Wrote {export_report_markdown(session, report, out)}")
    return 0


def run_report_kind(args: argparse.Namespace) -> int:
    """One of the focused reports (dip samples, observations, feedback, improvement) as Markdown."""
    from qa_tui.dates import Month
    from qa_tui.errors import ValidationError
    from qa_tui.services.reports import kinds
    from qa_tui.services.programme.periods import parse_financial_quarter
    from qa_tui.services.reports.figures import last_complete_month

    month = None
    if args.verb == "dip-samples" and args.month:
        try:
            month = Month.parse(args.month)
        except ValueError as exc:
            raise ValidationError("--month", str(exc)) from None
    period = (kinds.parse_financial_half(args.half) if args.verb == "observations"
              else parse_financial_quarter(args.quarter) if args.verb in ("feedback", "improvement") else None)
    out = Path(args.out).expanduser() if args.out else None
    if out is not None and out.is_dir():
        raise ValidationError("--out", f"{out} is a folder; give a file name")
    ctx = open_ctx(args)
    try:
        today = ctx.today()
        with (ctx.db.session() if out else ctx.db.reader()) as session:
            if args.verb == "dip-samples":
                report = kinds.dip_sample_report(session, month or last_complete_month(today), today, ctx.config)
                text = kinds.dip_sample_markdown(report)
            elif args.verb == "observations":
                report = kinds.observation_report(session, period, today, ctx.config)
                text = kinds.observation_markdown(report)
            elif args.verb == "feedback":
                report = kinds.feedback_report(session, period, today)
                text = kinds.feedback_markdown(report)
            else:
                report = kinds.improvement_overview(session, period, today)
                text = kinds.improvement_markdown(report)
            if out is None:
                print(text, end="")
                return 0
            written = kinds.export_markdown(session, text, out, f"{args.verb} report {report.period.label}")
    finally:
        ctx.db.dispose()
    print(f"Wrote {written}")
    return 0


def run_owe(args: argparse.Namespace) -> int:
    from qa_tui.errors import NotFound
    from qa_tui.services.programme.obligations import obligations, obligations_by_staff_id

    def owed_by(session: Session, ctx: AppContext) -> Obligations:
        if args.person:
            return obligations_by_staff_id(session, args.person, ctx.today(), ctx.config)
        if ctx.person_id is not None:
            return obligations(session, ctx.person_id, ctx.today(), ctx.config)
        raise NotFound(f"No person record for login {ctx.login!r}; give --person STAFF_ID "
                       "or set [user] staff_id in the config file.")

    owed, _ = _read(args, owed_by)
    _print_obligations(owed)
    return 0


def _print_obligations(owed: Obligations) -> None:
    from qa_tui.config import ROLE_NAMES

    p = owed.person
    print(f"What {p.name} ({p.staff_id}, {ROLE_NAMES.get(p.role, p.role)}) owes on {owed.today.isoformat()}")
    if not owed.lines:
        print("Nothing: the QA programme has no tasks for this role.")
        return
    for status, heading in (("late", "Late"), ("due", "Due"), ("met", "Done")):
        lines = owed.with_status(status)
        if not lines:
            continue
        print(f"\n{heading}:")
        for line in lines:
            print(f"  {line.task_label} ({line.period.label}): {line.done} of {line.required} done"
                  + (f", due by {line.due_by.isoformat()}" if status != "met" else ""))
            waiting = [item for item in line.items if item.done < item.required]
            for item in waiting[:ITEMS_SHOWN]:
                note = f" ({item.note})" if item.note else ""
                print(f"    - {item.subject}{note}: {item.done} of {item.required}, "
                      f"{'late since' if item.late else 'due by'} {item.due_by.isoformat()}")
            if len(waiting) > ITEMS_SHOWN:
                print(f"    … and {len(waiting) - ITEMS_SHOWN} more")


def run_compliance(args: argparse.Namespace) -> int:
    from qa_tui.errors import NotFound
    from qa_tui.services.people.directory import service_by_code
    from qa_tui.services.programme.compliance import compliance

    def compliance_of(session: Session, ctx: AppContext) -> Compliance:
        service = service_by_code(session, args.service) if args.service else None
        if args.service and service is None:
            raise NotFound(f"--service: no service with code {args.service!r}")
        return compliance(session, ctx.today(), ctx.config, group_by=args.by,
                          service_id=service.id if service else None)

    result, _ = _read(args, compliance_of)
    _print_compliance(result)
    return 0


def _print_compliance(result: Compliance) -> None:
    print(f"QA programme compliance by {result.group_by} on {result.today.isoformat()}")
    if not result.totals:
        print("No one owes anything under the programme.")
        return
    header = f"{'':<34} {'owed by':<26} {'period':<16} {'done':<28} {'rate':>5} {'met':>5} {'late':>5}"
    for total in result.totals:
        print(f"\n{total.group_label} {('(' + total.group + ')') if total.group else ''}".rstrip())
        print(header)
        for row in (*[r for r in result.rows if r.group == total.group], total):
            rate = "—" if row.rate is None else f"{row.rate:.0%}"
            print(f"  {row.task_label[:32]:<32} {row.owed_by[:26]:<26} {row.period_label[:16]:<16} "
                  f"{row.progress[:28]:<28} {rate:>5} {row.people_met:>5} {row.people_late:>5}")


def run_impact(args: argparse.Namespace) -> int:
    from qa_tui.services.programme.impact import impact_report, reaudits_due
    from qa_tui.services.programme.periods import parse_financial_quarter

    period = parse_financial_quarter(args.quarter)
    (rows, due), ctx = _read(args, lambda session, ctx: (impact_report(session, period, ctx.today(), ctx.config),
                                                         reaudits_due(session, ctx.today(), ctx.config)))
    scale = ctx.config.grading_scale
    print(f"Re-audits for impact, {period.label} ({period.start.isoformat()} to {period.end.isoformat()})")
    if not rows:
        print("No re-audits held in the quarter.")
    for r in rows:
        print(f"{r.team_code or '(no team)'}: {r.reaudited} re-audited; {r.improved} improved, {r.same} the same, "
              f"{r.worse} worse")
        for reference, before, after in r.pairs:
            print(f"  {reference}: {scale[before]} → {scale[after]}")
            for outcome in (said for ref, said in r.changes if ref == reference):
                print(f"    what changed for the child: {outcome}")
    print(f"Re-audits due now and not yet held: {len(due)}")
    return 0


def run_asye(args: argparse.Namespace) -> int:
    from qa_tui.services.practice.asye import asye_progress

    rows, _ = _read(args, lambda session, ctx: asye_progress(session, ctx.today(), ctx.config,
                                                             team_id=_team_id(session, args.team)))
    if not rows:
        print("No newly qualified workers (NQSW).")
        return 0
    for r in rows:
        print(f"{r.worker_name} ({r.staff_id}) {r.team_code}: {r.summary}")
        for w in r.windows:
            seen = f" observed {w.observed_on.isoformat()}" if w.observed_on else ""
            print(f"  {w.label:<12} {w.starts.isoformat()} to {w.ends.isoformat()}  {w.status}{seen}")
    return 0


def _team_id(session: Session, code: str | None) -> uuid.UUID | None:
    from qa_tui.errors import NotFound
    from qa_tui.services.people.directory import team_by_code

    if not code:
        return None
    team = team_by_code(session, code)
    if team is None:
        raise NotFound(f"--team: no team with code {code!r}")
    return team.id


def run_cp_reviews(args: argparse.Namespace) -> int:
    from qa_tui.services.programme.cp_reviews import cp_review_list

    rows, _ = _read(args, lambda session, ctx: cp_review_list(session, ctx.today(), ctx.config,
                                                              team_id=_team_id(session, args.team)))
    if not rows:
        print("No CP plans that ended having lasted under 3 months or have run 18 months or more.")
        return 0
    print(f"CP plans due a review ({rows[0].period_label}): {sum(not r.reviewed_this_period for r in rows)} "
          f"not yet reviewed of {len(rows)}")
    for r in rows:
        last = r.last_reviewed.isoformat() if r.last_reviewed else "never"
        mark = "reviewed" if r.reviewed_this_period else "TO REVIEW"
        print(f"  {r.case_reference:<14} {r.team_code:<8} {mark:<9} last audited {last:<10}  {r.reason}")
    return 0
