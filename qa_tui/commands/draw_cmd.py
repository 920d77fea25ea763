"""`qa-tui draw`: make the monthly random case draw for a team, verify a recorded draw, or
re-draw one worker's case with a reason."""

from __future__ import annotations

import argparse
import json
import uuid
from typing import TYPE_CHECKING

from qa_tui.commands.common import open_ctx

if TYPE_CHECKING:
    from qa_tui.services.audits.draw import DrawSummary
    from qa_tui.services.audits.draw_verification import DrawVerification


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "draw", help="random case draw: one case per worker for a team and month",
        description="Draw one eligible case per case-holding worker (qa-tui draw --team TEAM --month "
                    "YYYY-MM), check a recorded draw (qa-tui draw verify ID) or re-draw one worker's case "
                    "(qa-tui draw redraw ID --worker STAFF_ID --reason TEXT).")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--team", metavar="TEAM", help="team code")
    which.add_argument("--all-teams", action="store_true", help="draw for every active team")
    parser.add_argument("--month", metavar="YYYY-MM", help="the month being audited (default: this month)")
    parser.add_argument("--seed", help="use this seed instead of a fresh random one (no spaces or ':')")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_draw)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verify = verbs.add_parser("verify", help="recompute a draw's picks from its record")
    verify.add_argument("draw_id", metavar="ID")
    verify.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    verify.set_defaults(func=run_verify)
    redraw = verbs.add_parser("redraw", help="pick another case for one worker, keeping the original on record")
    redraw.add_argument("draw_id", metavar="ID")
    redraw.add_argument("--worker", required=True, metavar="STAFF_ID", help="the worker's staff ID")
    redraw.add_argument("--reason", required=True, help="why the case is being re-drawn")
    redraw.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    redraw.set_defaults(func=run_redraw)


def _draw_id(text: str) -> uuid.UUID:
    from qa_tui.errors import ValidationError

    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError("ID", f"expected a draw ID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427, got {text!r}") from None


def _refuse_draw_options_with_verb(args: argparse.Namespace) -> None:
    from qa_tui.errors import ValidationError

    for flag, value in (("--team", args.team), ("--all-teams", args.all_teams),
                        ("--month", args.month), ("--seed", args.seed)):
        if value:
            raise ValidationError(flag, f"not used with 'draw {args.verb}'")


def run_draw(args: argparse.Namespace) -> int:
    from qa_tui.dates import Month
    from qa_tui.errors import NotFound, ValidationError
    from qa_tui.services.audits.draw import draw_all_teams, draw_cases_for_team
    from qa_tui.services.people.directory import team_by_code

    if not args.team and not args.all_teams:
        raise ValidationError("--team", "give a team code (--team TEAM) or --all-teams")
    ctx = open_ctx(args)
    try:
        today = ctx.today()
        try:
            month = Month.parse(args.month) if args.month else Month.of(today)
        except ValueError as exc:
            raise ValidationError("--month", str(exc)) from None
        skipped: tuple[str, ...] = ()
        already: tuple[str, ...] = ()
        with ctx.db.session() as session:
            if args.all_teams:
                result = draw_all_teams(session, month, today, ctx.config.draw,
                                        seed=args.seed, drawn_by=ctx.login)
                draws, skipped = list(result.draws), result.teams_without_case_holders
                already = result.teams_already_drawn
            else:
                team = team_by_code(session, args.team)
                if team is None:
                    raise NotFound(f"--team: no team with code {args.team!r}")
                draws = [draw_cases_for_team(session, team.id, month, today, ctx.config.draw,
                                             seed=args.seed, drawn_by=ctx.login)]
    finally:
        ctx.db.dispose()
    if args.json:
        payload = [d.as_json() for d in draws]
        print(json.dumps(payload if args.all_teams else payload[0], indent=2))
        return 0
    for draw in draws:
        _print_draw(draw)
    if skipped:
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        print(f"{len(skipped)} teams have no case-holders and were not drawn: {', '.join(skipped[:10])}{more}")
    if already:
        more = f" and {len(already) - 10} more" if len(already) > 10 else ""
        print(f"{len(already)} teams already had their draw for {month} and were left as they were: "
              f"{', '.join(already[:10])}{more} (re-draw one worker with qa-tui draw redraw ID --worker ... --reason ...)")
    return 0


def _print_draw(draw: DrawSummary) -> None:
    print(f"Draw {draw.id}")
    print(f"Team {draw.team_code} ({draw.team_name}), month {draw.month}, seed {draw.seed}, "
          f"algorithm {draw.algorithm}")
    if not draw.picks:
        print("  No case-holding workers in this team.")
    people = [f"{pick.staff_id}  {pick.worker_name} ({pick.role})" for pick in draw.picks]
    width = max(map(len, people), default=0)
    for who, pick in zip(people, draw.picks):
        if pick.case_reference is None:
            print(f"  {who:<{width}}  nothing drawn: {pick.empty_reason}")
        else:
            redrawn = f", re-draw {pick.round}: {pick.redraw_reason}" if pick.round else ""
            print(f"  {who:<{width}}  {pick.case_reference} {pick.category or ''} "
                  f"(1 of {pick.pool_size} eligible{redrawn})")
    print(f"Check it any time: qa-tui draw verify {draw.id}")


def run_verify(args: argparse.Namespace) -> int:
    from qa_tui.services.audits.draw_verification import verify_draw

    _refuse_draw_options_with_verb(args)
    draw_id = _draw_id(args.draw_id)
    ctx = open_ctx(args)
    try:
        with ctx.db.reader() as session:
            result = verify_draw(session, draw_id, ctx.today())
    finally:
        ctx.db.dispose()
    if args.json:
        print(json.dumps(_verification_json(result), indent=2))
    else:
        _print_verification(result)
    return 0 if result.picks_match else 1


def _verification_json(result: DrawVerification) -> dict:
    return {
        "draw_id": str(result.draw_id), "algorithm": result.algorithm,
        "picks_match": result.picks_match, "problems": list(result.problems),
        "picks": [{"staff_id": c.staff_id, "round": c.round, "recorded": c.recorded,
                   "expected": c.expected, "matches": c.matches} for c in result.pick_checks],
        "pools_current": result.pools_current,
        "pools": [{"staff_id": c.staff_id, "matches": c.matches, "added": list(c.added),
                   "removed": list(c.removed)} for c in result.pool_checks],
        "workers_joined": list(result.workers_joined), "workers_left": list(result.workers_left),
    }


def _print_verification(result: DrawVerification) -> None:
    if result.picks_match:
        print(f"Draw {result.draw_id}: verified. All {len(result.pick_checks)} picks "
              f"recompute from the recorded seed and pools ({result.algorithm}).")
    else:
        print(f"Draw {result.draw_id}: DOES NOT VERIFY.")
        for check in result.pick_checks:
            if not check.matches:
                print(f"  {check.staff_id} round {check.round}: recorded {check.recorded}, "
                      f"recomputes to {check.expected or 'nothing'}")
        for problem in result.problems:
            print(f"  {problem}")
    if result.pools_current:
        print("Pools: the same rules give the same pools today.")
        return
    print("Pools: today's data differ from the recorded pools (allowed: cases move):")
    for check in result.pool_checks:
        if not check.matches:
            changes = [f"+{r}" for r in check.added] + [f"-{r}" for r in check.removed]
            print(f"  {check.staff_id}: {' '.join(changes)}")
    if result.workers_joined:
        print(f"  holding cases now but not in the draw: {', '.join(result.workers_joined)}")
    if result.workers_left:
        print(f"  in the draw but no longer holding cases here: {', '.join(result.workers_left)}")


def run_redraw(args: argparse.Namespace) -> int:
    from qa_tui.services.audits.draw import draw_worker_id, redraw_for_worker

    _refuse_draw_options_with_verb(args)
    draw_id = _draw_id(args.draw_id)
    ctx = open_ctx(args)
    try:
        with ctx.db.session() as session:
            worker_id = draw_worker_id(session, draw_id, args.worker)
            outcome = redraw_for_worker(session, draw_id, worker_id, args.reason, ctx.login, ctx.today())
    finally:
        ctx.db.dispose()
    pick = outcome.pick
    if args.json:
        print(json.dumps({
            "draw_id": str(draw_id), "staff_id": pick.staff_id, "round": pick.round,
            "case_reference": pick.case_reference, "category": pick.category,
            "replaces": outcome.replaced_reference, "reason": pick.redraw_reason,
            "warning": outcome.warning,
        }, indent=2))
        return 0
    print(f"{pick.staff_id} {pick.worker_name}: {pick.case_reference} {pick.category or ''} "
          f"replaces {outcome.replaced_reference} (re-draw {pick.round}; the original stays on record)")
    if outcome.warning:
        print(f"Note: {outcome.warning}")
    return 0
