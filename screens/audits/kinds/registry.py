"""The panes of the other-audits screen, in the order of their tabs (keys 1 to 8)."""

from __future__ import annotations

from screens.audits.kinds.audit_lists import CrossServicePane, RecordAuditsPane, SupervisionFilePane
from screens.audits.kinds.closure import ClosurePane
from screens.audits.kinds.good_practice import GoodPracticePane
from screens.audits.kinds.pane import KindPane
from screens.audits.kinds.support import SupportPane
from screens.audits.kinds.themes import MultiAgencyPane, ThemesPane

PANES: tuple[type[KindPane], ...] = (ThemesPane, MultiAgencyPane, ClosurePane, SupervisionFilePane, CrossServicePane,
                                     GoodPracticePane, SupportPane, RecordAuditsPane)
