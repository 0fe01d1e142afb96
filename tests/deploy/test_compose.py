"""docker-compose.yml is valid Compose, production-shaped, and every sinergi service runs a real command
with real settings. No Docker engine runs here: what can be checked without one is checked."""

from __future__ import annotations

import json
import re

import click
import pytest
from compose_file import (
    COMPOSE_FILE,
    REPO,
    SANDBOX_OVERLAY,
    SCHEMA,
    environment,
    interpolate,
    is_sinergi,
    load,
    one_shot,
    sinergi_services,
)

from sinergi.cli import cli
from sinergi.platform.config import _SECTIONS, CONFIG_ENV, GatewaySettings, load_settings

DOC = load()
SERVICES = DOC["services"]
# SINERGI_* variables that are not settings but documented names: the config file's path, and the
# secrets sinergi reads from the environment (deploy/README.md).
DOCUMENTED_ENV = {CONFIG_ENV, GatewaySettings().codec_token_env, "SINERGI_TEMPORAL_API_KEY"}
# Their images have no shell or HTTP client to probe with, or (admin tools) nothing to be healthy about.
NO_HEALTHCHECK = {"otel-collector", "jaeger", "temporal-admin-tools"}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|_PWD$|SECRET|TOKEN|API_KEY$|_IN$|_OUT$")


@pytest.mark.parametrize("path", [COMPOSE_FILE, SANDBOX_OVERLAY], ids=lambda p: p.name)
def test_compose_files_follow_the_compose_specification(path):
    if not SCHEMA.is_file():
        pytest.skip(f"Compose Specification schema not found at {SCHEMA.resolve()} (shared/schemas beside the repo)")
    jsonschema = pytest.importorskip("jsonschema")
    # The schema names draft-07 with an https URI that jsonschema does not map; say which draft it is.
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text("utf-8")))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load(path))]
    assert not errors, "\n".join(errors)


def test_the_stack_has_every_part_of_a_production_deployment():
    images = {name: interpolate(svc.get("image", "")) for name, svc in SERVICES.items()}
    assert images["postgresql"].startswith("postgres:")
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert images["temporal-admin-tools"].startswith("temporalio/admin-tools:")
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert images["otel-collector"].startswith("otel/opentelemetry-collector")
    assert images["jaeger"].startswith("jaegertracing/")
    assert {"worker", "gateway", "sandbox", "setup"} <= set(sinergi_services(DOC))
    assert SERVICES["temporal"]["environment"]["DB"] == "postgres12"


def test_every_image_is_pinned_to_a_version():
    for name, svc in SERVICES.items():
        image = interpolate(svc["image"])
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*", image), f"{name}: {image} is not pinned to a version"


def test_temporal_server_and_its_schema_tools_are_the_same_version():
    version = {name: SERVICES[name]["image"].split(":")[1] for name in ("temporal", "temporal-schema",
                                                                         "temporal-namespace", "temporal-admin-tools")}
    assert len(set(version.values())) == 1, version


def test_workers_scale_out_with_no_fixed_name_or_host_port():
    worker = SERVICES["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert not any("container_name" in svc for svc in SERVICES.values()), "fixed names prevent two stacks on a host"


def test_long_running_services_restart_and_report_their_health():
    for name, svc in SERVICES.items():
        if one_shot(svc):
            continue
        assert svc.get("restart") in {"unless-stopped", "always"}, f"{name}: no restart policy"
        if name not in NO_HEALTHCHECK:
            assert "test" in svc.get("healthcheck", {}), f"{name}: no healthcheck"


def test_one_shot_services_gate_what_depends_on_them():
    one_shots = {name for name, svc in SERVICES.items() if one_shot(svc)}
    assert one_shots == {"temporal-schema", "temporal-namespace", "setup"}
    gated = {dep for svc in SERVICES.values() for dep, how in (svc.get("depends_on") or {}).items()
             if isinstance(how, dict) and how.get("condition") == "service_completed_successfully"}
    assert gated == one_shots
    assert SERVICES["setup"]["command"] == ["admin", "setup"]


def test_data_lives_in_named_volumes():
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgresql"]["volumes"]
    assert {"postgres-data", "sinergi-state"} <= set(DOC["volumes"])


def resolve(command: list[str]) -> click.Command:
    """The click command a container's argv reaches, checking each `--option` it passes exists."""
    ctx = click.Context(cli)
    current: click.Command = cli
    words = list(command)
    while words and isinstance(current, click.Group) and not words[0].startswith("-"):
        word = words.pop(0)
        found = current.get_command(ctx, word)
        assert found is not None, f"`sinergi {' '.join(command)}`: no command {word!r}"
        current = found
    known = {opt for param in current.params for opt in getattr(param, "opts", [])}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"`sinergi {' '.join(command)}`: no option {word}"
    return current


@pytest.mark.parametrize("name", sorted(sinergi_services(DOC)))
def test_every_sinergi_service_runs_a_real_cli_command(name):
    command = SERVICES[name]["command"]
    assert isinstance(command, list) and command, f"{name}: give the command as a list"
    resolve(command)


def test_the_three_processes_share_one_image_whose_default_is_the_worker():
    images = {svc["image"] for svc in sinergi_services(DOC).values()}
    assert len(images) == 1
    assert {svc["command"][0] for svc in sinergi_services(DOC).values()} == {"worker", "gateway", "sandbox", "admin"}


def sinergi_variables() -> dict[str, str]:
    found: dict[str, str] = {}
    for doc in (DOC, load(SANDBOX_OVERLAY)):
        for svc in doc["services"].values():
            found.update({k: v for k, v in environment(svc).items() if k.startswith("SINERGI_")})
    return found


def test_every_sinergi_variable_is_a_real_setting_or_a_documented_name():
    for name in sinergi_variables():
        section, _, key = name[len("SINERGI_"):].lower().partition("_")
        is_setting = section in _SECTIONS and key in _SECTIONS[section].model_fields
        assert is_setting or name in DOCUMENTED_ENV, f"{name} is neither a setting nor a documented variable"


@pytest.mark.parametrize("name", sorted(sinergi_services(DOC)))
def test_the_settings_file_and_each_services_env_load_without_error(name):
    env = environment(SERVICES[name])
    settings = load_settings(REPO / "deploy" / "sinergi.toml", env={**env, CONFIG_ENV: ""})
    assert settings.temporal.address == "temporal:7233"
    assert str(settings.codec.keys_file) == "/run/secrets/codec_keys"
    assert settings.gateway.host == "0.0.0.0"  # reachable from the other containers
    assert settings.telemetry.otlp_endpoint == "http://otel-collector:4318"  # sinergi exports OTLP/HTTP


def test_no_secret_is_written_into_the_compose_file():
    for name, svc in SERVICES.items():
        for var, value in environment(svc).items():
            if SECRET_NAME.search(var) and not var.endswith("_FILE"):
                assert value.lower() in {"", "true", "false"}, f"{name}: {var} holds a literal secret"


def test_secret_files_are_mounted_from_a_git_ignored_folder():
    ignored = (REPO / ".gitignore").read_text("utf-8").split()
    for name, secret in DOC["secrets"].items():
        assert secret["file"].startswith("./deploy/secrets/"), name
    assert "deploy/secrets/" in ignored and "deploy/sinergi.env" in ignored
    assert SERVICES["postgresql"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"


def test_every_mounted_config_and_script_is_in_the_repository():
    for name, config in DOC["configs"].items():
        assert (REPO / interpolate(config["file"])).is_file(), f"config {name}: {config['file']} is missing"
    for name, svc in SERVICES.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name}: {source} is missing"
        entrypoint = svc.get("entrypoint") or []
        for word in entrypoint:
            if word.startswith("/deploy/"):
                assert (REPO / "deploy" / "temporal" / word.removeprefix("/deploy/")).is_file(), f"{name}: {word}"


def test_the_ui_decodes_through_the_gateway_from_an_origin_the_gateway_allows():
    ui = environment(SERVICES["temporal-ui"])
    gateway = environment(SERVICES["gateway"])
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == gateway["SINERGI_GATEWAY_PUBLIC_URL"] + "/codec"
    host_port = SERVICES["temporal-ui"]["ports"][0].split(":")[-2]
    assert gateway["SINERGI_GATEWAY_UI_ORIGINS"] == f"http://localhost:{host_port}"
    assert ui["TEMPORAL_DEFAULT_NAMESPACE"] == gateway["SINERGI_TEMPORAL_NAMESPACE"]


def test_sandbox_is_optional_and_the_overlay_points_every_service_at_it():
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]
    overlay = load(SANDBOX_OVERLAY)["services"]
    assert "network_mode" not in overlay["worker"], "scaled workers must reach the sandbox over the network"
    assert environment(overlay["sandbox"])["SINERGI_DEV_SANDBOX_HOST"] == "0.0.0.0"
    for name in ("worker", "gateway"):
        assert environment(overlay[name])["SINERGI_DEV_SANDBOX_URL"] == "http://sandbox:9100"
    assert all(environment(svc).get("SINERGI_AGENCIES_FILE", "sandbox") == "sandbox" for svc in overlay.values())
    assert all(is_sinergi(SERVICES[name]) for name in overlay)


def test_the_codec_keys_reach_the_worker_and_the_gateway_and_no_other_container():
    holders = {name for name, svc in SERVICES.items()
               if any((s if isinstance(s, str) else s.get("source")) == "codec_keys" for s in svc.get("secrets", []))}
    assert holders == {"worker", "gateway"}


def test_setup_runs_without_keys_and_so_does_an_operators_cli():
    # `admin setup` codes no payload; the CLI with [codec] endpoint codes through the gateway.
    from sinergi.platform.remote_codec import RemoteCodec
    from sinergi.platform.temporal import converter_for

    settings = load_settings(REPO / "deploy" / "sinergi.toml", env={
        CONFIG_ENV: "", "SINERGI_CODEC_ENDPOINT": "https://sinergi.example.go.id/codec"})
    assert isinstance(converter_for(settings).payload_codec, RemoteCodec)  # the keys file is never opened


def test_the_ui_signs_users_in_and_passes_their_token_exactly_when_the_gateway_checks_it():
    ui = environment(SERVICES["temporal-ui"])
    raw_ui = SERVICES["temporal-ui"]["environment"]
    raw_gateway = SERVICES["gateway"]["environment"]
    assert raw_ui["TEMPORAL_AUTH_ENABLED"] == raw_ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"]
    assert raw_ui["TEMPORAL_AUTH_PROVIDER_URL"] == raw_gateway["SINERGI_AUTH_ISSUER"]
    assert ui["TEMPORAL_AUTH_ENABLED"] == "false"  # off until an identity provider is configured
    settings = load_settings(REPO / "deploy" / "sinergi.toml", env={
        CONFIG_ENV: "", **environment(SERVICES["gateway"]),
        "SINERGI_AUTH_ISSUER": "https://sso.example.go.id/realms/sinergi", "SINERGI_AUTH_AUDIENCE": "sinergi-gateway",
        "SINERGI_AUTH_JWKS_URL": "https://sso.example.go.id/realms/sinergi/protocol/openid-connect/certs"})
    assert settings.auth.oidc and settings.auth.role_claim == "sinergi_role"
