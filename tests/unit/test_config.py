"""Settings: file, env overlay, path resolution and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinergi.platform.config import ConfigError, Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_when_there_is_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={})
    assert s.temporal.address == "127.0.0.1:7233"
    assert s.temporal.task_queue == "sinergi"
    assert s.gateway.base_url == "http://127.0.0.1:8080"
    assert s.gateway.ui_origins == ["http://127.0.0.1:8233", "http://localhost:8233"]
    assert s.policy.file == "default" and s.agencies.file == "sandbox"
    assert s.telemetry.log_format == "json"
    assert s.config_dir == tmp_path.resolve()
    assert s.codec.keys_file == tmp_path.resolve() / ".sinergi" / "keys.json"


def test_sinergi_toml_in_the_cwd_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "sinergi.toml", "[temporal]\nnamespace = 'cwd-ns'\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).temporal.namespace == "cwd-ns"


def test_values_come_from_the_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "sinergi.toml",
        """
[temporal]
address = "temporal.example:7233"
namespace = "sinergi-prod"
tls = true
[gateway]
port = 9000
public_url = "https://gw.example/"
[telemetry]
log_level = "debug"
log_format = "console"
""",
    )
    s = load_settings(cfg, env={})
    assert s.temporal.address == "temporal.example:7233"
    assert s.temporal.namespace == "sinergi-prod"
    assert s.temporal.tls is True
    assert s.gateway.port == 9000
    assert s.gateway.base_url == "https://gw.example"
    assert s.telemetry.log_level == "DEBUG"
    assert s.telemetry.log_format == "console"


def test_env_vars_override_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[gateway]\nport = 9000\nhost = '0.0.0.0'\n")
    env = {
        "SINERGI_GATEWAY_PORT": "9090",
        "sinergi_temporal_ADDRESS": "10.0.0.1:7233",
        "SINERGI_GATEWAY_UI_ORIGINS": "http://a:1, http://b:2",
        "SINERGI_TEMPORAL_TLS": "true",
        "SINERGI_CODEC_TOKEN": "not-a-setting",  # other SINERGI_* vars are ignored
    }
    s = load_settings(cfg, env=env)
    assert s.gateway.port == 9090
    assert s.gateway.host == "0.0.0.0"
    assert s.temporal.address == "10.0.0.1:7233"
    assert s.temporal.tls is True
    assert s.gateway.ui_origins == ["http://a:1", "http://b:2"]


def test_the_config_path_can_come_from_sinergi_config(tmp_path: Path) -> None:
    cfg = write(tmp_path / "conf" / "custom.toml", "[temporal]\ntask_queue = 'q2'\n")
    assert load_settings(env={"SINERGI_CONFIG": str(cfg)}).temporal.task_queue == "q2"


def test_relative_paths_resolve_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "deploy"
    cfg = write(
        conf_dir / "sinergi.toml",
        """
[codec]
keys_file = "secrets/keys.json"
[policy]
file = "policy.toml"
[agencies]
file = "../shared/agencies.toml"
[temporal]
tls_ca_file = "ca.pem"
""",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = load_settings(Path("..") / "deploy" / "sinergi.toml", env={})
    conf_dir = conf_dir.resolve()
    assert s.config_dir == conf_dir
    assert s.codec.keys_file == conf_dir / "secrets" / "keys.json"
    assert s.policy.file == str(conf_dir / "policy.toml")
    assert s.agencies.file == str(tmp_path.resolve() / "shared" / "agencies.toml")
    assert s.temporal.tls_ca_file == conf_dir / "ca.pem"
    assert s.dev.db_file == conf_dir / ".sinergi" / "temporal.db"
    assert s.dev.state_dir == conf_dir / ".sinergi"
    assert cfg.exists()


def test_built_in_policy_and_agency_names_are_not_treated_as_paths(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[policy]\nfile = 'demo'\n[agencies]\nfile = 'sandbox'\n")
    s = load_settings(cfg, env={})
    assert s.policy.file == "demo"
    assert s.agencies.file == "sandbox"


def test_an_unknown_key_error_names_the_file_and_the_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[gateway]\nprot = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={})
    assert str(exc.value).startswith(f"{cfg}: gateway.prot: unknown key")
    assert "port" in str(exc.value)


def test_an_unknown_section_is_an_error(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[gatway]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"sinergi\.toml: gatway: unknown section"):
        load_settings(cfg, env={})


def test_config_dir_cannot_be_set_from_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "config_dir = '/etc'\n")
    with pytest.raises(ConfigError, match="config_dir: unknown section"):
        load_settings(cfg, env={})


def test_a_bad_type_error_names_the_key_and_the_expected_form(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[gateway]\nport = 'abc'\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={})
    assert str(exc.value) == f"{cfg}: gateway.port: expected an integer, got 'abc'"


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "sinergi.toml",
        """
[temporal]
tls = "maybe"
[telemetry]
log_format = "xml"
log_level = "loud"
""",
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={})
    lines = str(exc.value).splitlines()
    assert len(lines) == 3
    assert f"{cfg}: temporal.tls: expected true or false, got 'maybe'" in lines
    assert f"{cfg}: telemetry.log_format: expected 'json' or 'console', got 'xml'" in lines
    assert any(line.startswith(f"{cfg}: telemetry.log_level: expected one of DEBUG") for line in lines)


def test_a_bad_env_value_error_names_the_env_var(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={"SINERGI_GATEWAY_PORT": "abc"})
    assert str(exc.value) == "SINERGI_GATEWAY_PORT: gateway.port: expected an integer, got 'abc'"


def test_an_out_of_range_port_is_rejected(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[dev]\nui_port = 70000\n")
    with pytest.raises(ConfigError, match=r"dev\.ui_port: expected less than or equal to 65535, got 70000"):
        load_settings(cfg, env={})


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    cfg = write(tmp_path / "sinergi.toml", "[gateway]\nport = \n")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, env={})
    message = str(exc.value)
    assert message.startswith(f"{cfg}: invalid TOML")
    assert "line 2" in message


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_settings_reject_unknown_fields_when_built_in_code() -> None:
    with pytest.raises(ValueError):
        Settings.model_validate({"gateway": {"nope": 1}})


def test_the_metrics_address_is_host_and_port_and_off_by_default():
    assert load_settings(env={}).telemetry.metrics_address is None
    assert load_settings(env={"SINERGI_TELEMETRY_METRICS_ADDRESS": "0.0.0.0:9464"}).telemetry.metrics_address == \
        "0.0.0.0:9464"
    with pytest.raises(ConfigError, match="telemetry.metrics_address: expected host:port"):
        load_settings(env={"SINERGI_TELEMETRY_METRICS_ADDRESS": "9464"})



def test_a_retired_gateway_key_still_loads_and_changes_nothing(tmp_path: Path) -> None:
    # gateway.party_cache_seconds sized a cache the gateway no longer has (the case checks membership).
    cfg = write(tmp_path / "sinergi.toml", "[gateway]\nparty_cache_seconds = 5\n")
    assert load_settings(cfg, env={}).gateway.model_dump(exclude={"party_cache_seconds"}) == \
        load_settings(write(tmp_path / "empty.toml", ""), env={}).gateway.model_dump(exclude={"party_cache_seconds"})
