"""Configuration: where it lives, what it holds, and strict validation with clear errors.

The user's own `config.toml` is read with tomllib and never rewritten. Every key has a default,
so an empty or missing file is valid. A bad value raises `ConfigError` naming file, key and what
was expected.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "qa-tui"
ENV_DATABASE_URL = "QA_TUI_DATABASE_URL"
ENV_CONFIG_FILE = "QA_TUI_CONFIG"
ENV_DATA_DIR = "QA_TUI_DATA_DIR"

OFSTED_SCALE = ("Outstanding", "Good", "Requires improvement to be good", "Inadequate")
DIP_SAMPLE_SCALE = ("Met", "Partly met", "Not met")

CASE_HOLDING_ROLES = ("SW", "NQSW", "ASWP")
ROLES = ("SW", "NQSW", "ASWP", "TM", "SM", "OPS", "HOS", "AD", "DD", "IRO", "PI")
ROLE_NAMES = {
    "SW": "Social worker",
    "NQSW": "Newly qualified social worker (ASYE)",
    "ASWP": "Advanced practitioner",
    "TM": "Team manager",
    "SM": "Senior manager",
    "OPS": "Operations lead",
    "HOS": "Head of service",
    "AD": "Assistant director",
    "DD": "Deputy director",
    "IRO": "IRO / CP chair",
    "PI": "Practice improvement team",
}
MODERATOR_ROLES = ("OPS", "HOS", "AD", "DD", "SM")

LIVE_AUDIT_DOMAINS = (
    ("recording", "Quality of recording"),
    ("practice", "Quality of practice"),
    ("impact", "Impact"),
    ("outcomes", "Outcomes for the child"),
    ("voice", "Voice of the child"),
    ("oversight", "Management oversight"),
)
DIP_SAMPLE_AREAS = (
    ("case_summary", "Case summary"),
    ("chronology", "Chronology"),
    ("visits", "Visits"),
    ("oversight", "Management oversight"),
    ("voice", "Voice and daily lived experience of the child"),
    ("direct_work", "Life story and direct work"),
    ("world_of_adult", "World of the adult / daily lived experience of the parent"),
)
THEMED_AUDIT_DOMAINS = (
    ("theme", "Practice on the theme"),
    ("recording", "Quality of recording"),
    ("voice", "Voice of the child"),
    ("oversight", "Management oversight"),
    ("impact", "Impact and outcomes for the child"),
)
MULTI_AGENCY_DOMAINS = (
    ("information_sharing", "Information sharing between agencies"),
    ("joint_working", "Joint working and communication"),
    ("risk", "Shared understanding of risk"),
    ("voice", "Voice of the child"),
    ("outcomes", "Outcomes for the child"),
)
# The checks the frameworks make when a case closes or moves team.
CLOSURE_CHECKS = (
    ("objectives", "Objectives of the plan met"),
    ("chronology", "Chronology checked for gaps"),
    ("key_data", "Key data recorded"),
    ("quality", "Overall quality acceptable"),
    ("step_down", "Step-down plan in place"),
)
SUPERVISION_FILE_DOMAINS = (
    ("regularity", "Regularity of supervision"),
    ("reflection", "Quality of reflection"),
    ("actions", "Actions followed up"),
    ("oversight", "Management oversight recorded"),
    ("wellbeing", "Wellbeing and development discussed"),
)
CADENCES = {"weekly": 7, "fortnightly": 14, "monthly": 0, "quarterly": -3}

# The QA programme: the closed set of tasks the compliance engine knows how to count, and the
# frequencies a task can have (financial_year runs April to March; on_event follows case closures).
PROGRAMME_TASKS = {
    "audit_case_file": "Audit case files",
    "audit_supervision_file": "Audit supervision files",
    "audit_cross_service": "Audit a case file from another service",
    "audit_on_closure": "Audit case files on closure",
    "supervise_each_practitioner": "Supervise each practitioner",
    "have_case_audited": "Have a case audited",
    "be_observed": "Have practice observed",
    "dip_sample": "Dip sample a case",
    "review_cp_long_or_ending": "Review CP plans ending soon or running long",
}
PROGRAMME_FREQUENCIES = ("weekly", "fortnightly", "monthly", "bimonthly", "quarterly", "six_monthly",
                         "financial_year", "on_event")
EVENT_TASKS = ("audit_on_closure",)


class ConfigError(Exception):
    """A configuration file or value that cannot be used; the message says where and why."""

    def __init__(self, path: Path | str | None, key: str | None, problem: str) -> None:
        self.path = str(path) if path else None
        self.key = key
        self.problem = problem
        where = self.path or "configuration"
        if key:
            where = f"{where}: [{key}]" if "." not in key else f"{where}: {key}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Domain:
    key: str
    label: str


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    version: int
    kind: str
    scale: tuple[str, ...]
    domains: tuple[Domain, ...]


@dataclass(frozen=True)
class Deadlines:
    moderation_day: int = 28
    action_due_weeks: int = 4
    finalise_within_weeks: int = 4
    reaudit_months: int = 12


@dataclass(frozen=True)
class DrawRules:
    roles: tuple[str, ...] = CASE_HOLDING_ROLES
    require_open: bool = True
    require_allocated: bool = True
    exclude_audited_within_months: int = 12
    exclude_drawn_this_month: bool = True


@dataclass(frozen=True)
class ProgrammeTask:
    """One row of the QA programme: people in `roles` owe `count` of `task` each `frequency`
    (for per-practitioner, per-case and per-event tasks: `count` for each of them)."""

    roles: tuple[str, ...]
    task: str
    frequency: str
    count: int = 1
    purpose: str = ""
    within_days: int = 28  # on_event tasks: days allowed after the event


DEFAULT_PROGRAMME = (
    ProgrammeTask(("HOS",), "audit_case_file", "monthly", 1,
                  "Heads of Service see practice first hand"),
    ProgrammeTask(("HOS",), "audit_supervision_file", "monthly", 1,
                  "Heads of Service check the quality of management oversight"),
    ProgrammeTask(("DD",), "audit_case_file", "monthly", 1,
                  "The Deputy Director sees practice first hand"),
    ProgrammeTask(("DD",), "audit_supervision_file", "quarterly", 1,
                  "The Deputy Director checks the quality of management oversight"),
    ProgrammeTask(("OPS",), "audit_cross_service", "monthly", 1,
                  "Service leaders bring fresh eyes to another part of the service"),
    ProgrammeTask(("OPS",), "audit_on_closure", "on_event", 1,
                  "Service leaders check that work was finished well when a case closes", 28),
    ProgrammeTask(("TM",), "supervise_each_practitioner", "monthly", 1,
                  "Every practitioner has regular reflective supervision"),
    ProgrammeTask(("TM",), "dip_sample", "monthly", 1,
                  "Team managers check the basics of recording on a case each month"),
    ProgrammeTask(("TM",), "review_cp_long_or_ending", "quarterly", 1,
                  "Children on CP plans ending within 3 months or running beyond 18 months are reviewed"),
    ProgrammeTask(CASE_HOLDING_ROLES, "have_case_audited", "financial_year", 1,
                  "Every case-holder has at least one case audited each financial year"),
    ProgrammeTask((*CASE_HOLDING_ROLES, "IRO"), "be_observed", "financial_year", 1,
                  "Every practitioner has at least one practice observation each financial year"),
)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    database_url: str = ""
    user_staff_id: str = ""
    user_name: str = ""
    user_team: str = ""
    grading_scale: tuple[str, ...] = OFSTED_SCALE
    templates: tuple[Template, ...] = ()
    deadlines: Deadlines = field(default_factory=Deadlines)
    supervision_cadence: dict[str, str] = field(default_factory=dict)
    draw: DrawRules = field(default_factory=DrawRules)
    nqsw_observations_per_year: int = 3
    feedback_form_url: str = ""
    retention_years_after_closure: int = 0
    programme: tuple[ProgrammeTask, ...] = DEFAULT_PROGRAMME

    def template(self, key: str) -> Template:
        for template in self.templates:
            if template.key == key:
                return template
        raise KeyError(key)

    def cadence_for(self, role: str) -> str:
        return self.supervision_cadence.get(role, self.supervision_cadence.get("default", "monthly"))


def default_templates(scale: tuple[str, ...] = OFSTED_SCALE) -> tuple[Template, ...]:
    return (
        Template("live", "Live case audit", 1, "live", scale,
                 tuple(Domain(k, label) for k, label in LIVE_AUDIT_DOMAINS)),
        Template("dip", "Monthly dip sample", 1, "dip_sample", DIP_SAMPLE_SCALE,
                 tuple(Domain(k, label) for k, label in DIP_SAMPLE_AREAS)),
        Template("themed", "Themed audit", 1, "themed", scale,
                 tuple(Domain(k, label) for k, label in THEMED_AUDIT_DOMAINS)),
        Template("multi_agency", "Multi-agency audit", 1, "multi_agency", scale,
                 tuple(Domain(k, label) for k, label in MULTI_AGENCY_DOMAINS)),
        Template("closure", "Audit on closure or transfer", 1, "closure", DIP_SAMPLE_SCALE,
                 tuple(Domain(k, label) for k, label in CLOSURE_CHECKS)),
        Template("supervision_file", "Supervision file audit", 1, "supervision_file", scale,
                 tuple(Domain(k, label) for k, label in SUPERVISION_FILE_DOMAINS)),
        Template("cross_service", "Cross-service case audit", 1, "cross_service", scale,
                 tuple(Domain(k, label) for k, label in LIVE_AUDIT_DOMAINS)),
    )


DEFAULT_CADENCE = {"NQSW": "fortnightly", "default": "monthly"}


def config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    override = os.environ.get(ENV_CONFIG_FILE)
    return Path(override) if override else config_dir() / "config.toml"


def default_database_url(name: str = "qa-tui.sqlite3") -> str:
    return f"sqlite:///{data_dir() / name}"


def load_config(path: Path | None = None, *, db_override: str | None = None) -> Config:
    """Read and validate the config file (missing file: all defaults), then apply overrides."""
    path = path or config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, None, f"not valid TOML ({exc})") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(path, None, f"not valid TOML (not UTF-8 text at byte {exc.start})") from None
        except OSError as exc:
            raise ConfigError(path, None, f"cannot be read ({exc.strerror})") from None
    config = parse_config(raw, path if path.exists() else None)
    url = db_override or os.environ.get(ENV_DATABASE_URL) or config.database_url
    return _replace(config, database_url=url or default_database_url())


def _replace(config: Config, **changes: Any) -> Config:
    from dataclasses import replace

    return replace(config, **changes)


class _Reader:
    """Typed access to one table of the raw TOML, with errors naming the key."""

    def __init__(self, raw: dict[str, Any], path: Path | None, prefix: str) -> None:
        self.raw, self.path, self.prefix = raw, path, prefix
        self.known: set[str] = set()

    def _fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, f"{self.prefix}.{key}" if self.prefix else key, problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        self.known.add(key)
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) and kind in (int, (int,)):
            raise self._fail(key, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self._fail(key, f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    def int_between(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key, int, default, f"a whole number from {low} to {high}")
        if not low <= value <= high:
            raise self._fail(key, f"expected a whole number from {low} to {high}, got {value}")
        return value

    def strings(self, key: str, default: tuple[str, ...], *, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, list, list(default), "a list of strings")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise self._fail(key, "expected a list of non-empty strings")
        if allowed:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise self._fail(key, f"unknown value {bad[0]!r}; expected one of {', '.join(allowed)}")
        return tuple(value)

    def table(self, key: str) -> _Reader:
        value = self.get(key, dict, {}, "a table")
        return _Reader(value, self.path, f"{self.prefix}.{key}" if self.prefix else key)

    def check_unknown(self) -> None:
        for key in self.raw:
            if key not in self.known:
                raise self._fail(key, "unknown key (see config.example.toml for the keys that exist)")


def parse_config(raw: dict[str, Any], path: Path | None = None) -> Config:
    top = _Reader(raw, path, "")

    database = top.table("database")
    url = database.get("url", str, "", "a database URL string")
    if url and not url.startswith(("sqlite", "postgresql")):
        raise ConfigError(path, "database.url", "expected a sqlite:/// or postgresql+psycopg:// URL")
    if url and _has_password(url):
        raise ConfigError(path, "database.url", "holds a password; never put one in this file: use PGPASSWORD, "
                                                "~/.pgpass or a pg_service.conf service (and QA_TUI_DB_KEY for an "
                                                "encrypted SQLite file)")
    database.check_unknown()

    user = top.table("user")
    staff_id = user.get("staff_id", str, "", "a staff ID string")
    name = user.get("name", str, "", "a display name string")
    team = user.get("team", str, "", "a team code string")
    user.check_unknown()

    grading = top.table("grading")
    scale = grading.strings("scale", OFSTED_SCALE)
    if len(scale) < 2:
        raise ConfigError(path, "grading.scale", "expected at least two grades, best first")
    grading.check_unknown()

    deadlines_t = top.table("deadlines")
    deadlines = Deadlines(
        moderation_day=deadlines_t.int_between("moderation_day", 28, 1, 28),
        action_due_weeks=deadlines_t.int_between("action_due_weeks", 4, 1, 52),
        finalise_within_weeks=deadlines_t.int_between("finalise_within_weeks", 4, 1, 52),
        reaudit_months=deadlines_t.int_between("reaudit_months", 12, 0, 60),
    )
    deadlines_t.check_unknown()

    supervision = top.table("supervision")
    cadence_raw = supervision.get("cadence", dict, dict(DEFAULT_CADENCE), "a table of role = cadence")
    cadence: dict[str, str] = dict(DEFAULT_CADENCE)
    for role, value in cadence_raw.items():
        if role != "default" and role not in ROLES:
            raise ConfigError(path, f"supervision.cadence.{role}",
                              f"unknown role; expected one of {', '.join(ROLES)} or default")
        if value not in CADENCES:
            raise ConfigError(path, f"supervision.cadence.{role}",
                              f"expected one of {', '.join(CADENCES)}, got {value!r}")
        cadence[role] = value
    supervision.check_unknown()

    draw_t = top.table("draw")
    draw = DrawRules(
        roles=draw_t.strings("roles", CASE_HOLDING_ROLES, allowed=ROLES),
        require_open=draw_t.get("require_open", bool, True, "true or false"),
        require_allocated=draw_t.get("require_allocated", bool, True, "true or false"),
        exclude_audited_within_months=draw_t.int_between(
            "exclude_audited_within_months", deadlines.reaudit_months, 0, 60),
        exclude_drawn_this_month=draw_t.get("exclude_drawn_this_month", bool, True, "true or false"),
    )
    draw_t.check_unknown()

    observation = top.table("observation")
    nqsw_obs = observation.int_between("nqsw_per_year", 3, 1, 12)
    observation.check_unknown()

    feedback = top.table("feedback")
    form_url = feedback.get("form_url", str, "", "a URL string")
    feedback.check_unknown()

    retention = top.table("retention")
    retention_years = retention.int_between("years_after_closure", 0, 0, 100)
    retention.check_unknown()

    templates = _parse_templates(top, path, scale)
    programme = _parse_programme(top, path)
    top.check_unknown()

    return Config(
        path=path, database_url=url, user_staff_id=staff_id, user_name=name, user_team=team,
        grading_scale=scale, templates=templates, deadlines=deadlines,
        supervision_cadence=cadence, draw=draw, nqsw_observations_per_year=nqsw_obs,
        feedback_form_url=form_url, retention_years_after_closure=retention_years,
        programme=programme,
    )


def _has_password(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def _parse_templates(top: _Reader, path: Path | None, scale: tuple[str, ...]) -> tuple[Template, ...]:
    defaults = {t.key: t for t in default_templates(scale)}
    raw_list = top.get("templates", list, [], "an array of [[templates]] tables")
    for index, raw in enumerate(raw_list):
        where = f"templates[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(path, where, "expected a [[templates]] table")
        t = _Reader(raw, path, where)
        key = t.get("key", str, "", "a short template key such as 'live'")
        if not key:
            raise ConfigError(path, f"{where}.key", "expected a short template key such as 'live'")
        name = t.get("name", str, key, "a template name")
        version = t.int_between("version", 1, 1, 10_000)
        kind = t.get("kind", str, "live", "an audit kind")
        if kind not in AUDIT_KINDS:
            raise ConfigError(path, f"{where}.kind", f"expected one of {', '.join(AUDIT_KINDS)}, got {kind!r}")
        t_scale = t.strings("scale", scale)
        domains_raw = t.get("domains", list, [], "an array of {key, label} tables")
        domains = []
        for d_index, d in enumerate(domains_raw):
            if not isinstance(d, dict) or not isinstance(d.get("key"), str) or not isinstance(d.get("label"), str):
                raise ConfigError(path, f"{where}.domains[{d_index}]", "expected { key = \"...\", label = \"...\" }")
            domains.append(Domain(d["key"], d["label"]))
        if not domains:
            raise ConfigError(path, f"{where}.domains", "expected at least one graded domain")
        if len({d.key for d in domains}) != len(domains):
            raise ConfigError(path, f"{where}.domains", "domain keys must be unique")
        t.check_unknown()
        defaults[key] = Template(key, name, version, kind, t_scale, tuple(domains))
    return tuple(defaults.values())


def _parse_programme(top: _Reader, path: Path | None) -> tuple[ProgrammeTask, ...]:
    """The [[programme]] tables; when present they replace the whole default programme."""
    raw_list = top.get("programme", list, None, "an array of [[programme]] tables")
    if raw_list is None:
        return DEFAULT_PROGRAMME
    tasks = []
    for index, raw in enumerate(raw_list):
        where = f"programme[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(path, where, "expected a [[programme]] table")
        t = _Reader(raw, path, where)
        if "roles" not in raw:
            raise ConfigError(path, f"{where}.roles", "expected a list of roles, such as [\"TM\"]")
        roles = t.strings("roles", (), allowed=ROLES)
        if not roles:
            raise ConfigError(path, f"{where}.roles", "expected at least one role")
        task = t.get("task", str, "", "a task name")
        if task not in PROGRAMME_TASKS:
            raise ConfigError(path, f"{where}.task",
                              f"expected one of {', '.join(PROGRAMME_TASKS)}, got {task!r}")
        frequency = t.get("frequency", str, "", "a frequency")
        if frequency not in PROGRAMME_FREQUENCIES:
            raise ConfigError(path, f"{where}.frequency",
                              f"expected one of {', '.join(PROGRAMME_FREQUENCIES)}, got {frequency!r}")
        if (task in EVENT_TASKS) != (frequency == "on_event"):
            problem = (f"{task} happens on an event; expected frequency = \"on_event\"" if task in EVENT_TASKS
                       else f"only {', '.join(EVENT_TASKS)} can be on_event; expected a period such as \"monthly\"")
            raise ConfigError(path, f"{where}.frequency", problem)
        count = t.int_between("count", 1, 1, 100)
        purpose = t.get("purpose", str, "", "a line saying why")
        within_days = t.int_between("within_days", 28, 1, 366)
        if "within_days" in raw and frequency != "on_event":
            raise ConfigError(path, f"{where}.within_days", "only on_event tasks take within_days")
        t.check_unknown()
        tasks.append(ProgrammeTask(roles, task, frequency, count, purpose, within_days))
    return tuple(tasks)


AUDIT_KINDS = ("live", "dip_sample", "themed", "multi_agency", "closure", "supervision_file", "cross_service")
AUDIT_KIND_NAMES = {
    "live": "Live audit",
    "dip_sample": "Dip sample",
    "themed": "Themed audit",
    "multi_agency": "Multi-agency audit",
    "closure": "Audit on closure or transfer",
    "supervision_file": "Supervision file audit",
    "cross_service": "Cross-service audit",
}
