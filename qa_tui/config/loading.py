"""Where the config lives and how it is read: the user's own config.toml is parsed with tomllib,
never rewritten, and validated strictly. Every key has a default, so an empty or missing file is
valid; a bad value raises ConfigError naming file, key and what was expected."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa_tui.config.model import (
    DEFAULT_PERMISSIONS,
    PERMISSION_ROLES,
    CIN_CENSUS_NEW_CHILDREN,
    CIN_CENSUS_PERSONAL_IDS,
    DEFAULT_CADENCE,
    DEFAULT_PROGRAMME,
    Config,
    Deadlines,
    Domain,
    DrawRules,
    SERVE_MODES,
    ProgrammeTask,
    RoleVariant,
    ServeSettings,
    CinCensusImport,
    Template,
    default_templates,
)
from qa_tui.config.presets import PROGRAMME_PRESETS
from qa_tui.config.reader import ConfigError, TableReader, read_toml
from qa_tui.config.vocabulary import (
    AUDIT_KIND_TASKS,
    AUDIT_KINDS,
    CADENCES,
    CASE_HOLDING_ROLES,
    EVENT_TASKS,
    OBSERVATION_KIND_TASKS,
    OBSERVATION_KINDS,
    OFSTED_SCALE,
    PROGRAMME_FREQUENCIES,
    PROGRAMME_SCOPES,
    PROGRAMME_TASKS,
    ROLES,
)
from qa_tui.text import control_problem

APP_NAME = "qa-tui"
ENV_DATABASE_URL = "QA_TUI_DATABASE_URL"
ENV_CONFIG_FILE = "QA_TUI_CONFIG"
ENV_DATA_DIR = "QA_TUI_DATA_DIR"
ENV_DATABASE_ROLE = "QA_TUI_DATABASE_ROLE"
# An HTTP header name (RFC 9110 token characters).
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


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
    raw = read_toml(path) if path.exists() else {}
    config = parse_config(raw, path if path.exists() else None)
    url = db_override or os.environ.get(ENV_DATABASE_URL) or config.database_url
    return replace(config, database_url=url or default_database_url(),
                   database_role=os.environ.get(ENV_DATABASE_ROLE, ""))


def _refuse_control_characters(value: Any, path: Path | None, key: str = "") -> None:
    """Labels and names from the file are shown and stored: a control character in any string
    (an ESC, a NUL) is a ConfigError naming its key."""
    if isinstance(value, str):
        problem = control_problem(value)
        if problem:
            raise ConfigError(path, key or None, problem)
    elif isinstance(value, dict):
        for name, item in value.items():
            _refuse_control_characters(item, path, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            _refuse_control_characters(item, path, f"{key}[{index}]")


def parse_config(raw: dict[str, Any], path: Path | None = None) -> Config:
    _refuse_control_characters(raw, path)
    top = TableReader(raw, path, "")

    database = top.table("database")
    url = database.get("url", str, "", "a database URL string")
    if url and (problem := database_url_problem(url)):
        raise ConfigError(path, "database.url", problem)
    if url and url_has_password(url):
        raise ConfigError(path, "database.url", "holds a password (in the user part or as ?password=), not shown "
                                                "here; never put one in this file: use PGPASSWORD, "
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
        escalation_response_days=deadlines_t.int_between("escalation_response_days", 2, 1, 60),
        impact_reaudit_months=deadlines_t.int_between("impact_reaudit_months", 3, 1, 24),
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
        impact_reaudit_months=deadlines.impact_reaudit_months,
        impact_reaudit_grade_from=len(scale) - 2,
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
    serve = _parse_serve(top.table("serve"), path)
    cin_census = _parse_cin_census(top.table("import"), path)
    permissions_t = top.table("permissions")
    permissions = {key: permissions_t.strings(key, DEFAULT_PERMISSIONS[key], allowed=ROLES)
                   for key in PERMISSION_ROLES}
    permissions_t.check_unknown()
    top.check_unknown()

    return Config(
        path=path, database_url=url, user_staff_id=staff_id, user_name=name, user_team=team,
        grading_scale=scale, templates=templates, deadlines=deadlines,
        supervision_cadence=cadence, draw=draw, nqsw_observations_per_year=nqsw_obs,
        feedback_form_url=form_url, retention_years_after_closure=retention_years,
        programme=programme, serve=serve, cin_census=cin_census, permissions=permissions,
    )


def _parse_serve(serve: TableReader, path: Path | None) -> ServeSettings:
    mode = serve.get("mode", str, "token", "\"token\" or \"proxy\"")
    if mode not in SERVE_MODES:
        raise ConfigError(path, "serve.mode", f"expected one of {', '.join(SERVE_MODES)}, got {mode!r}")
    header = serve.get("user_header", str, "X-Forwarded-User", "an HTTP header name")
    if not HEADER_NAME.fullmatch(header):
        raise ConfigError(path, "serve.user_header", f"expected an HTTP header name such as X-Forwarded-User, "
                                                     f"got {header!r}")
    addresses = serve.strings("proxy_addresses", ("127.0.0.1",))
    if not addresses:
        raise ConfigError(path, "serve.proxy_addresses", "expected at least one address: the reverse proxy's")
    for address in addresses:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ConfigError(path, "serve.proxy_addresses", f"expected IP addresses or networks (such as "
                                                             f"\"127.0.0.1\" or \"10.20.0.0/24\"), got {address!r}"
                              ) from None
    serve.check_unknown()
    return ServeSettings(mode, header, addresses)


def _parse_cin_census(imports: TableReader, path: Path | None) -> CinCensusImport:
    census = imports.table("cin_census")
    imports.check_unknown()
    child_id = census.get("child_id", str, "LAchildID", "an element name of <ChildIdentifiers>").strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,59}", child_id):
        raise ConfigError(path, "import.cin_census.child_id", "expected an element name such as \"LAchildID\"")
    if child_id.casefold() in CIN_CENSUS_PERSONAL_IDS:
        raise ConfigError(path, "import.cin_census.child_id", f"{child_id} identifies a child personally and is "
                                                              "never stored; use the case system's ID (LAchildID)")
    prefix = census.get("reference_prefix", str, "", "text to put before the child ID")
    if len(prefix) > 20:
        raise ConfigError(path, "import.cin_census.reference_prefix", "expected at most 20 characters")
    new_children = census.get("new_children", str, "add", "\"add\" or \"skip\"")
    if new_children not in CIN_CENSUS_NEW_CHILDREN:
        raise ConfigError(path, "import.cin_census.new_children", f"expected \"add\" or \"skip\", got {new_children!r}")
    census.check_unknown()
    return CinCensusImport(child_id, prefix, new_children)


SUPPORTED_DATABASES = ("SQLite (sqlite:///path/to/qa.sqlite3, or sqlite+pysqlcipher:///path for an encrypted "
                       "file) and PostgreSQL (postgresql://login@host/database or "
                       "postgresql+psycopg://login@host/database)")
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "sqlite+pysqlcipher", "postgresql", "postgresql+psycopg")


def database_url_problem(url: str) -> str:
    """Why qa-tui cannot use this database URL, as one line naming the forms it can use, or "".
    Only the URL's scheme is ever repeated: the rest may hold a password."""
    scheme, separator, _ = url.strip().partition("://")
    if separator and scheme.casefold() in SUPPORTED_DRIVERS:
        return ""
    if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+._-]{0,39}", scheme):
        return f"The database URL is not one qa-tui can use; it works with {SUPPORTED_DATABASES}."
    hint = " (write postgresql:// instead)" if scheme.casefold() in ("postgres", "pgsql", "psql") else ""
    return f"qa-tui cannot use a {scheme}:// database{hint}; it works with {SUPPORTED_DATABASES}."


# Query parameters that carry a secret (libpq's and psycopg's names), compared case-folded.
SECRET_QUERY_KEYS = frozenset(("password", "passwd", "pwd", "sslpassword", "sslkey_password"))


def url_has_password(url: str) -> bool:
    """Whether a URL carries a password anywhere: in its user part or as a query parameter such
    as `?password=` (which qa-tui never keeps in a file, shows or stores)."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url.strip())
        if parts.password is not None:
            return True
    except ValueError:
        return False
    return any(key.strip().casefold() in SECRET_QUERY_KEYS
               for key, _ in parse_qsl(parts.query, keep_blank_values=True))


def mask_url(url: str) -> str:
    """The URL with every password (user part and query) shown as ***, for messages, status
    lines, the sync state and the audit trail. A URL with none comes back as it was."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    url = url.strip()
    if not url_has_password(url):
        return url
    parts = urlsplit(url)
    head, _, rest = url.partition("://")
    if parts.password is not None:
        end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        userinfo, _, host = rest[:end].rpartition("@")
        rest = f"{userinfo.partition(':')[0]}:***@{host}{rest[end:]}"
    before, mark, query = rest.partition("?")
    if mark:
        query, hash_mark, fragment = query.partition("#")
        pairs = [(key, "***" if key.strip().casefold() in SECRET_QUERY_KEYS else value)
                 for key, value in parse_qsl(query, keep_blank_values=True)]
        rest = before + "?" + urlencode(pairs, safe="*/:@") + hash_mark + fragment
    return f"{head}://{rest}"


def _parse_templates(top: TableReader, path: Path | None, scale: tuple[str, ...]) -> tuple[Template, ...]:
    defaults = {t.key: t for t in default_templates(scale)}
    raw_list = top.get("templates", list, [], "an array of [[templates]] tables")
    for index, raw in enumerate(raw_list):
        where = f"templates[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(path, where, "expected a [[templates]] table")
        t = TableReader(raw, path, where)
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


def _per_role(t: TableReader, raw: dict, roles: tuple[str, ...], task: str, path: Path | None,
              where: str) -> tuple[RoleVariant, ...]:
    """`per_role`: a table of role = { frequency, count } for the roles of the row that owe the
    task at their own frequency or count (`per_role.NQSW = { frequency = "fortnightly" }`)."""
    if "per_role" not in raw:
        return ()
    table = t.table("per_role")
    variants = []
    for role in table.raw:
        if role not in roles:
            raise ConfigError(path, f"{where}.per_role.{role}", f"expected one of the row's roles ({', '.join(roles)})")
        one = table.table(role)
        frequency = one.get("frequency", str, raw["frequency"], "a frequency")
        if frequency not in PROGRAMME_FREQUENCIES:
            raise ConfigError(path, f"{where}.per_role.{role}.frequency",
                              f"expected one of {', '.join(PROGRAMME_FREQUENCIES)}, got {frequency!r}")
        if (task in EVENT_TASKS) != (frequency == "on_event"):
            raise ConfigError(path, f"{where}.per_role.{role}.frequency",
                              "expected the row's kind of frequency (on_event only for tasks on an event)")
        count = one.int_between("count", raw.get("count", 1), 1, 100)
        one.check_unknown()
        variants.append(RoleVariant(role, frequency, count))
    return tuple(variants)


def _task_kinds(t: TableReader, raw: dict, task: str, path: Path | None, where: str) -> tuple[str, ...]:
    """`kinds`: the audit kinds an audit_record task counts (required), or the observation kinds
    an observe_practice task counts (any when not given)."""
    if task in AUDIT_KIND_TASKS:
        if "kinds" not in raw:
            raise ConfigError(path, f"{where}.kinds", f"expected the audit kinds to count, from {', '.join(AUDIT_KINDS)}")
        kinds = t.strings("kinds", (), allowed=AUDIT_KINDS)
        if not kinds:
            raise ConfigError(path, f"{where}.kinds", "expected at least one audit kind")
        return kinds
    if task in OBSERVATION_KIND_TASKS:
        return t.strings("kinds", (), allowed=OBSERVATION_KINDS)
    if "kinds" in raw:
        raise ConfigError(path, f"{where}.kinds", "only audit_record and observe_practice take kinds")
    return ()


def _parse_programme(top: TableReader, path: Path | None) -> tuple[ProgrammeTask, ...]:
    """The [[programme]] tables; when present they replace the whole default programme. A table
    holding only `preset = "portsmouth-2016"` (or another shipped preset) stands for every row of
    that preset, so a council can start from a preset and add its own rows."""
    raw_list = top.get("programme", list, None, "an array of [[programme]] tables")
    if raw_list is None:
        return DEFAULT_PROGRAMME
    tasks = []
    for index, raw in enumerate(raw_list):
        where = f"programme[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(path, where, "expected a [[programme]] table")
        t = TableReader(raw, path, where)
        if "preset" in raw:
            preset = t.get("preset", str, "", "a preset name")
            if preset not in PROGRAMME_PRESETS:
                raise ConfigError(path, f"{where}.preset",
                                  f"expected one of {', '.join(PROGRAMME_PRESETS)}, got {preset!r}")
            t.check_unknown()  # a preset row is the preset alone
            tasks.extend(PROGRAMME_PRESETS[preset].tasks)
            continue
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
        scope = t.get("scope", str, "area", "\"area\" or \"council\"")
        if scope not in PROGRAMME_SCOPES:
            raise ConfigError(path, f"{where}.scope", f"expected one of {', '.join(PROGRAMME_SCOPES)}, got {scope!r}")
        kinds = _task_kinds(t, raw, task, path, where)
        own_service = t.get("own_service", bool, False, "true or false")
        if "own_service" in raw and task not in OBSERVATION_KIND_TASKS:
            raise ConfigError(path, f"{where}.own_service", "only observe_practice takes own_service")
        sample_count = t.int_between("sample_count", 1, 1, 1000) if "sample_count" in raw else 0
        sample_percent = t.int_between("sample_percent", 1, 1, 100) if "sample_percent" in raw else 0
        for key in ("sample_count", "sample_percent"):
            if key in raw and task != "audit_on_closure":
                raise ConfigError(path, f"{where}.{key}", "only audit_on_closure takes a sample")
        if sample_count and sample_percent:
            raise ConfigError(path, f"{where}.sample_percent", "give sample_count or sample_percent, not both")
        per_role = _per_role(t, raw, roles, task, path, where)
        t.check_unknown()
        tasks.append(ProgrammeTask(roles, task, frequency, count, purpose, within_days, scope, kinds,
                                   own_service, sample_count, sample_percent, per_role))
    return tuple(tasks)

