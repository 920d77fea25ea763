"""Raising an action from a dip sample, with the same form and rules as an audit's actions: the
worker owns it by default, due `action_due_weeks` on, with the dip sample's case and team."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from screens.dialogs import ActionDialog, ActionInput

if TYPE_CHECKING:
    from qa_tui.services.audits.actions import ActionRow
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.dip_sample import DipSampleView
    from screens.base import QAScreen


def raise_dip_sample_action(screen: QAScreen, view: DipSampleView) -> None:
    """Ask for the action (what, who, by when) and add it to the dip sample."""
    from qa_tui.services.audits.actions import add_action
    from qa_tui.services.people.directory import people_for_picking

    ctx = screen.ctx
    include = [view.worker_id] if view.worker_id else []

    def ask(people: list[PersonRef]) -> None:
        def saved(form: ActionInput | None) -> None:
            if form is not None:
                screen.call_service(
                    lambda s: add_action(s, title=form.title, owner_id=form.owner_id, due_on=form.due_on,
                                         raised_by_id=ctx.person_id, source_kind="dip_sample", audit_id=view.id,
                                         today=ctx.today(), cfg=ctx.config),
                    added, write=True)

        due = ctx.today() + timedelta(weeks=ctx.config.deadlines.action_due_weeks)
        owners = [(p.id, f"{p.name} ({p.role})") for p in people]
        screen.app.push_screen(ActionDialog(owners, view.worker_id, due, f"from the dip sample of {view.case_reference}"),
                               saved)

    def added(action: ActionRow) -> None:
        screen.notify(f"Action added for {action.owner_name}, due {action.due_on:%-d %b %Y}: {action.title}")

    team_id = view.team_id
    screen.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id, include=include), ask)
