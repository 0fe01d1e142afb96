"""Connecting to Temporal: one data converter (pydantic + encryption codec) for every client, worker,
test environment and replayer, and the search attributes the case workflow publishes."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, Interceptor
from temporalio.common import HeaderCodecBehavior, SearchAttributeKey
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from sinergi.platform.codec import codec_from_settings, data_converter
from sinergi.platform.config import ConfigError, Settings
from sinergi.workflows.names import SEARCH_ATTRIBUTES

# The dev server's `--search-attribute Name=Type` spelling of each indexed value type.
_DEV_SERVER_TYPE = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
}


# A client that sends and reads no payload (`admin setup`): it needs no keys and no codec endpoint.
_NO_PAYLOADS = DataConverter.default


def converter_for(settings: Settings, *, keys: bool = False, sealed_only: bool = False) -> DataConverter:
    """The converter of every client and worker: sealed with the keys file, or — a client with `[codec]
    endpoint` set and `keys=False` (an operator's CLI) — through the gateway's codec endpoint, no keys read."""
    if settings.codec.endpoint and not keys:
        from sinergi.platform.remote_codec import RemoteCodec

        return data_converter(RemoteCodec(settings.codec.endpoint, codec_token(settings),
                                          settings.temporal.namespace))
    return data_converter(codec_from_settings(settings.codec, sealed_only=sealed_only))


def codec_token(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The operator's token: `[codec] token_env` (SINERGI_TOKEN), else the user profile's `token`."""
    value = (os.environ if environ is None else environ).get(settings.codec.token_env)
    return value or settings.codec.profile_token


def tls_config(settings: Settings, environ: Mapping[str, str] | None = None) -> TLSConfig | bool:
    """The TLS to connect with, from `[temporal] tls*`: False (plaintext), True (system roots) or a TLSConfig.

    Any CA, client certificate or server name turns TLS on; so does an API key, which must never
    travel in plaintext (Temporal Cloud refuses it). mTLS needs the certificate and its key together.
    """
    t = settings.temporal
    if bool(t.tls_cert_file) != bool(t.tls_key_file):
        raise ConfigError("temporal.tls_cert_file and temporal.tls_key_file: mTLS needs both, the client "
                          "certificate and its private key")
    if not (t.tls or t.tls_cert_file or t.tls_ca_file or t.tls_server_name or api_key(settings, environ)):
        return False
    if not (t.tls_cert_file or t.tls_ca_file or t.tls_server_name):
        return True  # the system's trusted roots, as Temporal Cloud with an API key expects
    return TLSConfig(server_root_ca_cert=_read(t.tls_ca_file, "tls_ca_file"),
                     client_cert=_read(t.tls_cert_file, "tls_cert_file"),
                     client_private_key=_read(t.tls_key_file, "tls_key_file"), domain=t.tls_server_name)


def api_key(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key from the env var named by `temporal.api_key_env` (the key itself is never in a file)."""
    name = settings.temporal.api_key_env
    if not name:
        return None
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        # Failing here beats an "unauthenticated" from the server that never names the missing variable.
        raise ConfigError(f"temporal.api_key_env: the environment variable {name} is not set")
    return value


def _read(path: Path | None, key: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"temporal.{key}: cannot read {path}: {exc.strerror}") from exc


async def connect(settings: Settings, interceptors: Sequence[Interceptor] = (), runtime: Runtime | None = None,
                  tracing: bool = True, *, keys: bool = False, payloads: bool = True,
                  sealed_only: bool = False) -> Client:
    """A client for the configured cluster (TLS, mTLS or API key per `[temporal]`), with the encrypting
    converter and, unless `tracing=False`, the tracing interceptor (workers built on the client inherit it).
    `runtime`: a worker's (`sinergi.platform.telemetry.worker_runtime`), else the SDK's default. `keys`: this
    process holds the keys file (the worker, the gateway) and never codes through `[codec] endpoint`.
    `payloads=False`: a client that sends and reads no payload (`admin setup`) needs neither keys nor endpoint.
    `sealed_only`: a worker's client, which reads no payload a key holder did not seal (`EncryptionCodec`)."""
    chain = list(interceptors)
    if tracing:
        from sinergi.platform.tracing import CaseTracingInterceptor  # here: it imports the SDK's worker (~40 ms)

        if not any(isinstance(i, CaseTracingInterceptor) for i in chain):
            chain.insert(0, CaseTracingInterceptor())
    return await Client.connect(settings.temporal.address, namespace=settings.temporal.namespace,
                                data_converter=(converter_for(settings, keys=keys, sealed_only=sealed_only) if payloads
                                                else _NO_PAYLOADS), tls=tls_config(settings),
                                api_key=api_key(settings), interceptors=chain, runtime=runtime,
                                # Headers (the trace context) are encrypted like every other payload in history.
                                header_codec_behavior=HeaderCodecBehavior.CODEC)


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` arguments for `temporal server start-dev`."""
    out: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        out += ["--search-attribute", f"{key.name}={_DEV_SERVER_TYPE[key.indexed_value_type]}"]
    return out


async def ensure_search_attributes(client: Client, namespace: str,
                                   keys: Sequence[SearchAttributeKey] = SEARCH_ATTRIBUTES) -> list[str]:
    """Register the case search attributes that are missing; safe to run on every deploy. Returns the added."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as exc:
        # The time-skipping test server only implements adding; adding there is idempotent.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {k.name: k.indexed_value_type for k in keys if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
