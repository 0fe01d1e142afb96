"""Connecting to Temporal: one data converter (pydantic + encryption codec) for every client, worker,
test environment and replayer, and the search attributes the case workflow publishes."""

from __future__ import annotations

import os
from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, Interceptor
from temporalio.common import SearchAttributeKey
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from sinergi.codec import codec_from_settings, data_converter
from sinergi.config import ConfigError, Settings
from sinergi.workflows.messages import SEARCH_ATTRIBUTES

# The dev server's `--search-attribute Name=Type` spelling of each indexed value type.
_DEV_SERVER_TYPE = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
}


def converter_for(settings: Settings) -> DataConverter:
    return data_converter(codec_from_settings(settings.codec))


def _tls(settings: Settings) -> TLSConfig | bool:
    t = settings.temporal
    if not (t.tls or t.tls_cert_file or t.tls_ca_file):
        return False

    def read(path) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"temporal TLS file {path}: {exc.strerror}") from exc

    return TLSConfig(server_root_ca_cert=read(t.tls_ca_file), client_cert=read(t.tls_cert_file),
                     client_private_key=read(t.tls_key_file), domain=t.tls_server_name)


async def connect(settings: Settings, interceptors: Sequence[Interceptor] = ()) -> Client:
    """A client for the configured cluster, with the encrypting converter."""
    api_key = os.environ.get(settings.temporal.api_key_env) if settings.temporal.api_key_env else None
    return await Client.connect(settings.temporal.address, namespace=settings.temporal.namespace,
                                data_converter=converter_for(settings), tls=_tls(settings), api_key=api_key,
                                interceptors=list(interceptors))


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
