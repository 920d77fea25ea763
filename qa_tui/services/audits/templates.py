"""Audit templates: the configured template stored as a versioned row that audits point at."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import Template
from qa_tui.db.models import AuditTemplate


def ensure_template(session: Session, template: Template) -> AuditTemplate:
    """The stored row for this template key and version, created on first use.

    A changed template must carry a new version number; an audit keeps the version it used."""
    row = session.scalar(select(AuditTemplate).where(
        AuditTemplate.key == template.key, AuditTemplate.template_version == template.version))
    if row is None:
        row = AuditTemplate(
            key=template.key, template_version=template.version, name=template.name,
            kind=template.kind, scale=list(template.scale),
            domains=[{"key": d.key, "label": d.label} for d in template.domains],
        )
        session.add(row)
        session.flush()
    return row
