"""Late audits escalate up the management line: an audit not sent for moderation by the
deadline, or not finalised in time, is listed for the auditor's line manager from the day it is
late, and for their manager a week later. One rule, used by triage and the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

SECOND_LEVEL_AFTER_DAYS = 7  # a week after the line manager, their manager sees it too


def escalated_to(owner_id: uuid.UUID | None, days_overdue: int, late: bool,
                 manager_of: Mapping[uuid.UUID, uuid.UUID | None]) -> tuple[uuid.UUID, ...]:
    """Who a late audit has reached above its auditor: the line manager once it is late, and
    theirs when it is SECOND_LEVEL_AFTER_DAYS or more overdue."""
    if owner_id is None or not late:
        return ()
    chain: list[uuid.UUID] = []
    first = manager_of.get(owner_id)
    if first is not None:
        chain.append(first)
        second = manager_of.get(first)
        if second is not None and second != owner_id and days_overdue >= SECOND_LEVEL_AFTER_DAYS:
            chain.append(second)
    return tuple(chain)


def escalation_level(person_id: uuid.UUID, owner_id: uuid.UUID | None, chain: tuple[uuid.UUID, ...]) -> int:
    """0: the person owns it; 1: it has reached them as line manager; 2: as the next one up; -1: neither."""
    if person_id == owner_id:
        return 0
    return chain.index(person_id) + 1 if person_id in chain else -1
