"""Configuration: where it lives, what it holds, and strict validation with clear errors.

Import what you need from `qa_tui.config` itself; its parts are the vocabulary of QA (roles,
scales, domains, programme tasks), the Config model with its defaults, the strict TOML reader,
and loading (paths, environment overrides, parsing the user's own config.toml, which is never
rewritten).
"""

from __future__ import annotations

from qa_tui.config.loading import (
    APP_NAME,
    ENV_CONFIG_FILE,
    ENV_DATA_DIR,
    ENV_DATABASE_ROLE,
    ENV_DATABASE_URL,
    SUPPORTED_DATABASES,
    config_dir,
    config_path,
    data_dir,
    database_url_problem,
    default_database_url,
    load_config,
    mask_url,
    parse_config,
    url_has_password,
)
from qa_tui.config.model import (
    CIN_CENSUS_NEW_CHILDREN,
    CIN_CENSUS_PERSONAL_IDS,
    DEFAULT_CADENCE,
    DEFAULT_PROGRAMME,
    CinCensusImport,
    Config,
    Deadlines,
    Domain,
    DrawRules,
    SERVE_MODES,
    ProgrammeTask,
    RoleVariant,
    ServeSettings,
    Template,
    default_templates,
)
from qa_tui.config.reader import ConfigError, TableReader, read_toml
from qa_tui.config.vocabulary import (
    AUDIT_KIND_NAMES,
    AUDIT_KINDS,
    CADENCES,
    CASE_HOLDING_ROLES,
    CHECKLIST_KINDS,
    CLOSURE_CHECKS,
    DIP_SAMPLE_AREAS,
    DIP_SAMPLE_SCALE,
    EVENT_TASKS,
    LIVE_AUDIT_DOMAINS,
    MODERATOR_ROLES,
    MULTI_AGENCY_DOMAINS,
    OFSTED_SCALE,
    PROGRAMME_FREQUENCIES,
    PROGRAMME_SCOPES,
    PROGRAMME_TASKS,
    ROLE_NAMES,
    ROLES,
    SUPERVISION_FILE_DOMAINS,
    THEMED_AUDIT_DOMAINS,
)

__all__ = [
    "APP_NAME", "AUDIT_KINDS", "AUDIT_KIND_NAMES", "CADENCES", "CASE_HOLDING_ROLES", "CHECKLIST_KINDS", "CIN_CENSUS_NEW_CHILDREN",
    "CIN_CENSUS_PERSONAL_IDS", "CLOSURE_CHECKS", "CinCensusImport", "Config", "ConfigError", "DEFAULT_CADENCE",
    "DEFAULT_PROGRAMME", "DIP_SAMPLE_AREAS", "DIP_SAMPLE_SCALE", "Deadlines", "Domain", "DrawRules",
    "ENV_CONFIG_FILE", "ENV_DATABASE_ROLE", "ENV_DATABASE_URL", "ENV_DATA_DIR", "EVENT_TASKS", "LIVE_AUDIT_DOMAINS",
    "MODERATOR_ROLES", "MULTI_AGENCY_DOMAINS", "OFSTED_SCALE", "PROGRAMME_FREQUENCIES", "PROGRAMME_SCOPES", "PROGRAMME_TASKS",
    "ProgrammeTask", "RoleVariant", "ROLES", "ROLE_NAMES", "SERVE_MODES", "SUPERVISION_FILE_DOMAINS", "SUPPORTED_DATABASES",
    "ServeSettings", "THEMED_AUDIT_DOMAINS", "TableReader", "Template", "config_dir", "config_path", "data_dir",
    "database_url_problem",
    "default_database_url", "default_templates", "load_config", "parse_config", "read_toml",
    "url_has_password",
    "mask_url",
]
