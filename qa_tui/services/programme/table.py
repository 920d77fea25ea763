"""The active QA programme as a council reads it: role → task → frequency → purpose, one row per
programme row, with the options that narrow each task spelled out."""

from __future__ import annotations

from dataclasses import dataclass, replace

from qa_tui.config import AUDIT_KIND_NAMES, PROGRAMME_TASKS, ROLE_NAMES, Config, ProgrammeTask
from qa_tui.config.presets import PROGRAMME_PRESETS
from qa_tui.services.practice.observations import KIND_LABELS as OBSERVATION_KIND_LABELS

FREQUENCY_WORDS = {
    "weekly": "weekly", "fortnightly": "fortnightly", "monthly": "monthly", "bimonthly": "every two months",
    "quarterly": "quarterly", "six_monthly": "six-monthly", "financial_year": "each financial year",
    "on_event": "on closure or transfer",
}


@dataclass(frozen=True)
class ProgrammeTableRow:
    roles: str
    task: str
    frequency: str
    purpose: str
    task_key: str


def describe_task(task: ProgrammeTask) -> str:
    """The task in words, with its count and the options that narrow it."""
    text = PROGRAMME_TASKS[task.task]
    if task.kinds:
        labels = AUDIT_KIND_NAMES if task.task == "audit_record" else OBSERVATION_KIND_LABELS
        names = [labels.get(k, k.replace("_", " ")) for k in task.kinds]
        text += f" ({', '.join(names)})"
    if task.own_service:
        text += ", in their own area"
    if task.scope == "council":
        text += ", across the council"
    if task.count != 1:
        text += f" × {task.count}"
    return text


def describe_frequency(task: ProgrammeTask) -> str:
    """How often, with each role's own count and frequency where the row gives one ("NQSW: × 2 fortnightly")."""
    words = _frequency_words(task)
    for v in task.per_role:
        own = f"× {v.count} " if v.count != task.count else ""
        words += f"; {v.role}: {own}{_frequency_words(replace(task, frequency=v.frequency))}"
    return words


def _frequency_words(task: ProgrammeTask) -> str:
    words = FREQUENCY_WORDS.get(task.frequency, task.frequency)
    if task.frequency != "on_event":
        return words
    sample = (f"{task.sample_count} a month" if task.sample_count
              else f"{task.sample_percent}% a month" if task.sample_percent else "every one")
    return f"{words}: {sample}, within {task.within_days} days"


def programme_table(cfg: Config) -> list[ProgrammeTableRow]:
    """One row per programme row, in the config's order."""
    return [ProgrammeTableRow(", ".join(ROLE_NAMES.get(r, r) for r in t.roles), describe_task(t),
                              describe_frequency(t), t.purpose, t.task) for t in cfg.programme]


def active_preset(cfg: Config) -> str:
    """The shipped preset the programme is, or "" when it is the council's own."""
    return next((name for name, p in PROGRAMME_PRESETS.items() if p.tasks == cfg.programme), "")
