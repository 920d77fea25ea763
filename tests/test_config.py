"""Configuration: defaults, overrides, the starter file, and one clear message per mistake."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from qa_tui.cli import main
from qa_tui.config import AUDIT_KINDS, ConfigError, load_config
from qa_tui.config_file import starter_config_text

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults_and_sqlite_in_data_dir(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml")
    assert config.deadlines.moderation_day == 28
    assert config.deadlines.action_due_weeks == 4
    assert config.cadence_for("NQSW") == "fortnightly"
    assert config.cadence_for("SW") == "monthly"
    assert config.database_url.startswith("sqlite:///") and str(tmp_path / "data") in config.database_url
    assert [t.key for t in config.templates] == [
        "live", "dip", "themed", "multi_agency", "closure", "supervision_file", "cross_service",
        "cp_conference_record", "lac_review_record", "carer_file"]
    assert {t.kind for t in config.templates} == set(AUDIT_KINDS)


def test_example_file_is_the_starter_text_and_parses_to_the_defaults(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert example == starter_config_text()
    parsed = load_config(write(tmp_path, example))
    defaults = load_config(tmp_path / "absent.toml")
    assert replace(parsed, path=None) == replace(defaults, path=None)


def test_serve_settings_and_the_database_role_from_the_environment_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, '[serve]\nmode = "proxy"\nuser_header = "X-Auth-Request-Email"\n'
                                         'proxy_addresses = ["10.20.0.5", "10.30.0.0/24", "::1"]\n'))
    assert (config.serve.mode, config.serve.user_header) == ("proxy", "X-Auth-Request-Email")
    assert config.serve.proxy_addresses == ("10.20.0.5", "10.30.0.0/24", "::1")
    assert config.database_role == ""
    monkeypatch.setenv("QA_TUI_DATABASE_ROLE", "alex.smith@example.gov.uk")
    assert load_config(tmp_path / "absent.toml").database_role == "alex.smith@example.gov.uk"
    with pytest.raises(ConfigError, match="unknown key"):  # never from the file
        load_config(write(tmp_path, '[database]\nrole = "alex"\n'))


def test_env_and_flag_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:////tmp/from-file.sqlite3"\n')
    assert load_config(path).database_url == "sqlite:////tmp/from-file.sqlite3"
    monkeypatch.setenv("QA_TUI_DATABASE_URL", "sqlite:////tmp/from-env.sqlite3")
    assert load_config(path).database_url == "sqlite:////tmp/from-env.sqlite3"
    assert load_config(path, db_override="sqlite:////tmp/flag.sqlite3").database_url == "sqlite:////tmp/flag.sqlite3"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[deadlines]\nmoderation_day = 31\n", "deadlines.moderation_day", "from 1 to 28"),
        ("[deadlines]\naction_due_weeks = \"four\"\n", "deadlines.action_due_weeks", "whole number"),
        ("[deadlines]\nreaudit_months = true\n", "deadlines.reaudit_months", "whole number"),
        ("[supervision.cadence]\nNQSW = \"daily\"\n", "supervision.cadence.NQSW", "fortnightly"),
        ("[supervision.cadence]\nWIZARD = \"monthly\"\n", "supervision.cadence.WIZARD", "unknown role"),
        ("[draw]\nroles = [\"SW\", \"CHEF\"]\n", "draw.roles", "unknown value 'CHEF'"),
        ("[database]\nurl = \"mysql://x\"\n", "database.url", "postgresql"),
        ("[grading]\nscale = [\"Good\"]\n", "grading.scale", "at least two"),
        ("[user]\nnickname = \"x\"\n", "user.nickname", "unknown key"),
        ("colour = \"red\"\n", "colour", "unknown key"),
        ("[[templates]]\nkey = \"x\"\nkind = \"live\"\n", "templates[0].domains", "at least one"),
        ("[[templates]]\nkey = \"x\"\nkind = \"party\"\ndomains=[{key=\"a\",label=\"A\"}]\n", "templates[0].kind", "expected one of"),
        ("[serve]\nmode = \"open\"\n", "serve.mode", "expected one of token, proxy"),
        ("[serve]\nuser_header = \"X User: a\"\n", "serve.user_header", "an HTTP header name"),
        ("[serve]\nproxy_addresses = []\n", "serve.proxy_addresses", "at least one address"),
        ("[serve]\nproxy_addresses = [\"proxy.council.local\"]\n", "serve.proxy_addresses", "IP addresses"),
        ("[serve]\nrole = \"alex\"\n", "serve.role", "unknown key"),
    ],
)
def test_bad_values_name_file_key_and_expectation(tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and key in message and expected in message


def test_invalid_toml_is_one_clear_line_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[deadlines\nmoderation_day = 28\n")
    assert main(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa-tui: ") and str(path) in err and "not valid TOML" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_config_init_writes_commented_private_file_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "conf" / "config.toml"
    assert main(["--config", str(path), "config", "init"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.count("\n#") > 20 and "moderation_day = 28" in text
    path.write_text(text + "\n# my own note\n")
    assert main(["--config", str(path), "config", "init"]) == 1
    assert "# my own note" in path.read_text()
    assert main(["--config", str(path), "config", "check"]) == 0
