"""`connect` honours `[temporal]` TLS, mTLS and API-key settings: built from settings alone, no server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from sinergi.platform.config import ConfigError, load_settings
from sinergi.platform.temporal import api_key, connect, tls_config


def settings_from(tmp_path: Path, **env: str):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"k1": base64.b64encode(bytes(32)).decode()}))
    return load_settings(env={"SINERGI_CODEC_KEYS_FILE": str(keys), **env})


def pem(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(f"-----BEGIN {name}-----\n".encode())
    return path


def test_without_tls_settings_the_connection_is_plaintext(tmp_path):
    assert tls_config(settings_from(tmp_path), environ={}) is False


def test_tls_alone_uses_the_system_trusted_roots(tmp_path):
    assert tls_config(settings_from(tmp_path, SINERGI_TEMPORAL_TLS="true"), environ={}) is True


def test_mtls_settings_build_a_tls_config_from_the_files(tmp_path):
    ca, cert, key = pem(tmp_path, "ca.pem"), pem(tmp_path, "client.pem"), pem(tmp_path, "client.key")
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_TLS_CA_FILE=str(ca), SINERGI_TEMPORAL_TLS_CERT_FILE=str(cert),
                             SINERGI_TEMPORAL_TLS_KEY_FILE=str(key), SINERGI_TEMPORAL_TLS_SERVER_NAME="temporal.kalsel")
    tls = tls_config(settings, environ={})
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == ca.read_bytes()
    assert tls.client_cert == cert.read_bytes()
    assert tls.client_private_key == key.read_bytes()
    assert tls.domain == "temporal.kalsel"


def test_a_client_certificate_without_its_key_is_a_config_error(tmp_path):
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_TLS_CERT_FILE=str(pem(tmp_path, "client.pem")))
    with pytest.raises(ConfigError, match="tls_key_file"):
        tls_config(settings, environ={})


def test_an_unreadable_ca_file_is_a_config_error_naming_the_setting(tmp_path):
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_TLS_CA_FILE=str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="tls_ca_file"):
        tls_config(settings, environ={})


def test_an_api_key_comes_from_the_named_env_var_and_turns_tls_on(tmp_path):
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_API_KEY_ENV="KALSEL_TEMPORAL_KEY")
    environ = {"KALSEL_TEMPORAL_KEY": "key-123"}
    assert api_key(settings, environ) == "key-123"
    assert tls_config(settings, environ) is True


def test_a_named_but_unset_api_key_variable_is_a_config_error(tmp_path):
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_API_KEY_ENV="KALSEL_TEMPORAL_KEY")
    with pytest.raises(ConfigError, match="KALSEL_TEMPORAL_KEY"):
        api_key(settings, {})


async def test_connect_passes_tls_and_api_key_to_the_client(tmp_path, monkeypatch):
    seen = {}

    async def fake_connect(target, **kwargs):
        seen.update(kwargs, target=target)
        return "client"

    monkeypatch.setattr(Client, "connect", fake_connect)
    monkeypatch.setenv("KALSEL_TEMPORAL_KEY", "key-123")
    ca = pem(tmp_path, "ca.pem")
    settings = settings_from(tmp_path, SINERGI_TEMPORAL_ADDRESS="kalsel.tmprl.cloud:7233",
                             SINERGI_TEMPORAL_NAMESPACE="kalsel.a1b2c", SINERGI_TEMPORAL_TLS_CA_FILE=str(ca),
                             SINERGI_TEMPORAL_API_KEY_ENV="KALSEL_TEMPORAL_KEY")
    assert await connect(settings) == "client"
    assert seen["target"] == "kalsel.tmprl.cloud:7233"
    assert seen["namespace"] == "kalsel.a1b2c"
    assert seen["api_key"] == "key-123"
    assert isinstance(seen["tls"], TLSConfig) and seen["tls"].server_root_ca_cert == ca.read_bytes()
