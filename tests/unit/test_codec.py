"""The AES-GCM payload codec, the keys file and the data converter."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from sinergi.platform.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    codec_from_settings,
    data_converter,
    ensure_keys_file,
    load_keys,
)
from sinergi.platform.config import CodecSettings, ConfigError

KEY1 = bytes(range(32))
KEY2 = bytes(range(32, 64))


class Person(BaseModel):
    full_name: str
    date_of_birth: date


PERSON = Person(full_name="Siti Rahmawati", date_of_birth=date(2009, 4, 1))


def to_payload(value: object) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([value])[0]


def write_keys(path: Path, keys: dict[str, object]) -> Path:
    path.write_text(json.dumps(keys), encoding="utf-8")
    return path


@pytest.mark.asyncio
async def test_a_pydantic_payload_round_trips_through_the_codec() -> None:
    codec = EncryptionCodec({"k1": KEY1}, "k1")
    original = to_payload(PERSON)
    [encrypted] = await codec.encode([original])
    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[KEY_ID_METADATA] == b"k1"
    [decrypted] = await codec.decode([encrypted])
    assert decrypted == original
    [back] = pydantic_data_converter.payload_converter.from_payloads([decrypted], [Person])
    assert back == PERSON


@pytest.mark.asyncio
async def test_the_ciphertext_contains_no_plaintext() -> None:
    codec = EncryptionCodec({"k1": KEY1}, "k1")
    [encrypted] = await codec.encode([to_payload(PERSON)])
    blob = encrypted.SerializeToString()
    assert b"Siti" not in blob
    assert b"2009" not in blob
    assert b"json/plain" not in blob  # the original metadata is encrypted too


@pytest.mark.asyncio
async def test_the_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec({"k1": KEY1}, "k1")
    first, second = await codec.encode([to_payload(PERSON), to_payload(PERSON)])
    assert first.data != second.data


@pytest.mark.asyncio
async def test_payloads_encoded_with_an_old_key_decode_after_rotation() -> None:
    old = EncryptionCodec({"k1": KEY1}, "k1")
    [encrypted] = await old.encode([to_payload(PERSON)])
    rotated = EncryptionCodec({"k1": KEY1, "k2": KEY2}, "k2")
    [fresh] = await rotated.encode([to_payload(PERSON)])
    assert fresh.metadata[KEY_ID_METADATA] == b"k2"
    decoded = await rotated.decode([encrypted, fresh])
    assert decoded == [to_payload(PERSON), to_payload(PERSON)]


@pytest.mark.asyncio
async def test_an_unknown_key_id_raises_a_value_error_naming_the_key_id() -> None:
    [encrypted] = await EncryptionCodec({"k9": KEY2}, "k9").encode([to_payload(PERSON)])
    with pytest.raises(ValueError, match="unknown key id 'k9'") as exc:
        await EncryptionCodec({"k1": KEY1}, "k1").decode([encrypted])
    assert KEY1.hex() not in str(exc.value) and KEY2.hex() not in str(exc.value)


@pytest.mark.asyncio
async def test_a_payload_decrypted_with_the_wrong_key_raises_a_value_error() -> None:
    [encrypted] = await EncryptionCodec({"k1": KEY1}, "k1").encode([to_payload(PERSON)])
    with pytest.raises(ValueError, match="cannot decrypt payload with key id 'k1'"):
        await EncryptionCodec({"k1": KEY2}, "k1").decode([encrypted])


@pytest.mark.asyncio
async def test_a_relabelled_key_id_fails_authentication() -> None:
    [encrypted] = await EncryptionCodec({"k1": KEY1}, "k1").encode([to_payload(PERSON)])
    encrypted.metadata[KEY_ID_METADATA] = b"k2"
    with pytest.raises(ValueError, match="cannot decrypt"):
        await EncryptionCodec({"k1": KEY1, "k2": KEY1}, "k1").decode([encrypted])


@pytest.mark.asyncio
async def test_a_non_encrypted_payload_passes_through_decode_unchanged() -> None:
    plain = to_payload(PERSON)
    [out] = await EncryptionCodec({"k1": KEY1}, "k1").decode([plain])
    assert out == plain


def test_the_current_key_id_must_be_among_the_keys() -> None:
    with pytest.raises(ValueError, match="'k2'"):
        EncryptionCodec({"k1": KEY1}, "k2")


@pytest.mark.asyncio
async def test_the_data_converter_encrypts_values_and_failures() -> None:
    converter = data_converter(EncryptionCodec({"k1": KEY1}, "k1"))
    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    assert converter.payload_converter_class is pydantic_data_converter.payload_converter_class
    [encoded] = await converter.encode([PERSON])
    assert encoded.metadata["encoding"] == ENCODING
    assert await converter.decode([encoded], [Person]) == [PERSON]


def test_ensure_keys_file_creates_a_0600_file_with_one_valid_key(tmp_path: Path) -> None:
    path = tmp_path / "state" / "keys.json"
    ensure_keys_file(path, "k1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keys = load_keys(path)
    assert list(keys) == ["k1"] and len(keys["k1"]) == 32


def test_ensure_keys_file_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ensure_keys_file(path, "k1")
    before = path.read_bytes()
    ensure_keys_file(path, "k2")
    assert path.read_bytes() == before


def test_a_keys_file_with_bad_base64_names_the_key_id(tmp_path: Path) -> None:
    path = write_keys(tmp_path / "keys.json", {"good": base64.b64encode(KEY1).decode(), "bad": "not base64!"})
    expected = r"keys\.json: key 'bad': expected base64 of 32 bytes, got invalid base64"
    with pytest.raises(ConfigError, match=expected):
        load_keys(path)


def test_a_keys_file_with_a_short_key_names_the_key_id(tmp_path: Path) -> None:
    short = base64.b64encode(b"x" * 16).decode()
    path = write_keys(tmp_path / "keys.json", {"short": short})
    with pytest.raises(ConfigError, match="key 'short': expected base64 of 32 bytes, got 16 bytes") as exc:
        load_keys(path)
    assert short not in str(exc.value)


def test_a_keys_file_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_keys(path)


def test_codec_from_settings_uses_the_configured_key(tmp_path: Path) -> None:
    path = write_keys(
        tmp_path / "keys.json", {"k1": base64.b64encode(KEY1).decode(), "k2": base64.b64encode(KEY2).decode()}
    )
    codec = codec_from_settings(CodecSettings(key_id="k2", keys_file=path))
    assert codec.current_key_id == "k2"


def test_codec_from_settings_rejects_a_key_id_missing_from_the_file(tmp_path: Path) -> None:
    path = write_keys(tmp_path / "keys.json", {"k1": base64.b64encode(KEY1).decode()})
    with pytest.raises(ConfigError, match="codec.key_id: key 'k3' not in keys file"):
        codec_from_settings(CodecSettings(key_id="k3", keys_file=path))


async def test_a_payload_sealed_for_one_workflow_is_refused_in_another():
    from temporalio.converter import WorkflowSerializationContext

    from sinergi.platform.codec import UNSEALED, sealed_for

    codec = EncryptionCodec({"k1": KEY1}, "k1")
    for_a = codec.with_context(WorkflowSerializationContext(namespace="default", workflow_id="case-A"))
    [sealed] = await for_a.encode([to_payload(PERSON)])
    assert sealed_for(sealed) == "case-A"
    assert await for_a.decode([sealed]) == [to_payload(PERSON)]
    assert await codec.decode([sealed]) == [to_payload(PERSON)]  # no context (the codec endpoint): readable
    for_b = codec.with_context(WorkflowSerializationContext(namespace="default", workflow_id="case-B"))
    with pytest.raises(ValueError, match="sealed for workflow 'case-A'"):
        await for_b.decode([sealed])
    # The worker's codec: the payload becomes one no converter reads, so the update carrying it is rejected.
    worker_b = EncryptionCodec({"k1": KEY1}, "k1", sealed_only=True).with_context(
        WorkflowSerializationContext(namespace="default", workflow_id="case-B"))
    [refused] = await worker_b.decode([sealed])
    assert refused.metadata["encoding"] == UNSEALED
    # Relabelling it for B does not help: the workflow id is authenticated with the ciphertext.
    relabelled = type(sealed)()
    relabelled.CopyFrom(sealed)
    relabelled.metadata["encryption-workflow-id"] = b"case-B"
    with pytest.raises(ValueError, match="wrong key or tampered"):
        await for_b.decode([relabelled])
