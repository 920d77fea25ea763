"""`qa-tui programme show`: the active QA programme as role → task → frequency → purpose."""

from __future__ import annotations

import argparse

from qa_tui.commands.common import load


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("programme", help="the QA programme in force")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    show = verbs.add_parser("show", help="print the programme: role, task, frequency, purpose")
    show.add_argument("--preset", metavar="NAME", help="print a shipped preset instead (portsmouth-2016, wirral-2023)")
    show.set_defaults(func=run_show)


def run_show(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from qa_tui.config.presets import PROGRAMME_PRESETS
    from qa_tui.errors import ValidationError
    from qa_tui.services.programme.table import active_preset, programme_table

    config = load(args)
    if args.preset:
        if args.preset not in PROGRAMME_PRESETS:
            raise ValidationError("--preset", f"expected one of {', '.join(PROGRAMME_PRESETS)}, got {args.preset!r}")
        config = replace(config, programme=PROGRAMME_PRESETS[args.preset].tasks)
    rows = programme_table(config)
    preset = active_preset(config)
    title = PROGRAMME_PRESETS[preset].title if preset else "the council's own programme"
    print(f"QA programme: {title}")
    if not rows:
        print("No programme: nobody owes anything.")
        return 0
    print("| Role | Task | Frequency | Purpose |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r.roles} | {r.task} | {r.frequency} | {r.purpose} |")
    if preset and PROGRAMME_PRESETS[preset].not_counted:
        print("\nRows of the council's table qa-tui does not count:")
        for reason in PROGRAMME_PRESETS[preset].not_counted:
            print(f"- {reason}")
    return 0
