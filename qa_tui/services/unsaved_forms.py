"""Drafts of the forms that make or change a record (a supervision, feedback, a response, a
moderation comment, a support plan's step): each kind named here with how a person reads it, kept
in the journal of unsaved edits as it is typed and offered back after a restart, to be reopened in
its form with the text in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from qa_tui.journal import Unsaved

DRAFT_PREFIX = "form:"  # a journal entry's kind for a form's draft: "form:<form kind>"


@dataclass(frozen=True)
class FormKind:
    """A form whose draft is kept: `title` names it for a person ("Supervision note"), `fields`
    gives each field's label in the form's order."""

    kind: str
    title: str
    fields: dict[str, str]


FORM_KINDS: dict[str, FormKind] = {k.kind: k for k in (
    FormKind("supervision", "Supervision note", {"held_on": "Held on", "kind": "Kind", "supervisor": "Supervisor",
                                                 "notes": "Notes"}),
    FormKind("feedback", "Feedback", {"received_on": "Received on", "case": "Case", "worker": "Worker",
                                      "giver": "Who gave it", "channel": "Channel", "rating": "Rating",
                                      "themes": "Themes", "said": "What they said"}),
    FormKind("response", "Your response", {"stance": "Agree or disagree", "comment": "Comment",
                                           "reflection": "Your reflection"}),
    FormKind("record", "People, teams and cases:", {}),  # the fields' labels travel in the draft's context
    FormKind("tick-note", "Supervision", {"note": "Note"}),
    FormKind("finding", "Finding for supervision", {"text": "What to discuss"}),
    FormKind("moderation", "Moderation comment", {"text": "Comment"}),
    FormKind("support-plan", "Support plan", {"aim": "What they need support to improve", "step": "First step",
                                              "due": "First step due"}),
    FormKind("support-step", "Support plan step", {"step": "What the worker will do", "due": "Due"}),
    FormKind("support-close", "Closing the support plan", {"outcome": "How it ended"}),
    FormKind("action", "New action", {"title": "What needs doing", "owner": "Owner", "due": "Due"}),
    FormKind("done", "Marking done:", {"evidence": "Evidence that it was done",
                                       "outcome": "What changed for the child"}),
    FormKind("extend", "Extending:", {"due": "New due date", "reason": "Reason"}),
    FormKind("reassign", "Reassigning:", {"owner_name": "New owner", "reason": "Reason"}),
    FormKind("progress", "Progress on:", {"note": "What has been done so far"}),
    FormKind("escalation-answer", "Answer to the escalation", {"response": "What you did or decided"}),
    FormKind("escalation", "Escalation:", {"reason": "Why", "owner": "Escalation owner",
                                                         "note": "Note for them"}),
    FormKind("good-practice", "Good practice:", {"why": "Why"}),
    FormKind("agency-finding", "Finding about", {"finding": "Finding", "learning": "Learning fed back"}),
    FormKind("theme-learning", "Learning fed back from", {"text": "What was learnt, and who it went to"}),
    FormKind("close-loop", "Closing the loop", {"text": "What the worker should take from it"}),
    FormKind("redraw", "Re-draw for", {"reason": "Why"}),
)}


@dataclass(frozen=True)
class FormDraft:
    """What was typed in one form. `record_id` is the record the form is about (the worker, the
    audit, the plan…); `draft_id` is the id a record made from it takes, so storing the same
    draft twice makes one record; `context` holds what reopening needs beyond the fields."""

    kind: str
    record_id: str
    subject: str  # "for Sam Patel, 3 Dec 2026"
    draft_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    values: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def form(self) -> FormKind:
        return FORM_KINDS[self.kind]

    @property
    def key(self) -> str:
        return f"draft:{self.kind}:{self.record_id}:{self.draft_id}"

    def typed(self, values: dict[str, Any]) -> FormDraft:
        return FormDraft(self.kind, self.record_id, self.subject, self.draft_id, dict(values), self.context)

    def at(self, stage: str, **answers: Any) -> FormDraft:
        """The same draft, a wizard's `answers` added, asking for `stage` next."""
        return FormDraft(self.kind, self.record_id, self.subject, self.draft_id, self.values | answers,
                         self.context | {"stage": stage})

    def describe(self, typed_fields: list[str] | None = None) -> str:
        """"Supervision note for Sam Patel, 3 Dec 2026 · Notes", naming the fields typed in."""
        names = typed_fields if typed_fields is not None else [n for n, v in self.values.items() if v]
        known = self.form.fields | self.context.get("labels", {})
        labels = [known.get(name, name) for name in names]
        return f"{self.form.title} {self.subject}" + (f" · {', '.join(labels)}" if labels else "")

    def entry(self, typed_fields: list[str]) -> Unsaved:
        """The journal's note of this draft (a newer one of the same form replaces it)."""
        body = {"draft_id": self.draft_id, "subject": self.subject, "values": self.values, "context": self.context}
        return Unsaved(self.key, DRAFT_PREFIX + self.kind, self.record_id, ",".join(typed_fields),
                       self.describe(typed_fields), body)


def is_draft(entry: Unsaved) -> bool:
    return entry.kind.startswith(DRAFT_PREFIX) and entry.kind.removeprefix(DRAFT_PREFIX) in FORM_KINDS


def draft_of(entry: Unsaved) -> FormDraft:
    """The draft a journal entry holds (see `is_draft`)."""
    body = entry.value if isinstance(entry.value, dict) else {}
    return FormDraft(entry.kind.removeprefix(DRAFT_PREFIX), entry.record_id, str(body.get("subject", "")),
                     str(body.get("draft_id") or uuid.uuid4()), dict(body.get("values") or {}),
                     dict(body.get("context") or {}))


def preview_values(entry: Unsaved) -> str:
    """What was typed, field by field, for the list of unsaved edits."""
    draft = draft_of(entry)
    known = draft.form.fields | draft.context.get("labels", {})
    return " · ".join(f"{known.get(name, name)}: {draft.values.get(name, '')}"
                      for name in entry.field.split(",") if name)
