"""Raising an action from a dip sample, with the same form and rules as an audit's actions: the
worker owns it by default, due `action_due_weeks` on, with the dip sample's case and team."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.dip_sample import DipSampleView
    from screens.base import QAScreen


def raise_dip_sample_action(screen: QAScreen, view: DipSampleView) -> None:
    """Ask for the action (what, who, by when; kept as a draft as it is typed) and add it to the
    dip sample."""
    from qa_tui.services.people.directory import people_for_picking
    from screens.action_drafts import action_draft, new_action

    ctx = screen.ctx
    include = [view.worker_id] if view.worker_id else []

    def ask(people: list[PersonRef]) -> None:
        due = ctx.today() + timedelta(weeks=ctx.config.deadlines.action_due_weeks)
        new_action(screen, action_draft(record_id=view.id, where=f"from the dip sample of {view.case_reference}",
                                        source_kind="dip_sample", owners=[(p.id, f"{p.name} ({p.role})") for p in people],
                                        worker_id=view.worker_id, due=due))

    team_id = view.team_id
    screen.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id, include=include), ask)
