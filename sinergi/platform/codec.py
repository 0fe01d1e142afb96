"""Payload encryption: AES-256-GCM over every Temporal payload, with key ids so rotated keys keep decrypting.

Whatever passes through the data converter (inputs, results, memo, summaries, details, failure messages)
reaches the Temporal server only as `binary/encrypted` ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import temporalio.converter
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from sinergi.platform.config import CodecSettings, ConfigError

ENCODING = b"binary/encrypted"
UNSEALED = b"binary/unsealed"  # what the worker makes of a payload no key holder sealed: unreadable by design
KEY_ID_METADATA = "encryption-key-id"
WORKFLOW_METADATA = "encryption-workflow-id"
KEY_BYTES = 32
NONCE_BYTES = 12


class EncryptionCodec(temporalio.converter.PayloadCodec, temporalio.converter.WithSerializationContext):
    """Encrypts with `current_key_id`; decrypts with whichever key each payload names.

    Bound to its workflow: a payload sealed for a workflow (the SDK's serialization context names it) carries
    the workflow id in `encryption-workflow-id`, authenticated with the ciphertext, so it cannot be copied into
    another case by anyone without the keys; a worker decoding it for another workflow refuses it. Payloads
    sealed before this (no such metadata) decode as they did: old histories replay.
    """

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str, *, sealed_only: bool = False) -> None:
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not among the loaded keys")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r}: expected {KEY_BYTES} bytes, got {len(key)}")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current_key = keys[current_key_id]
        self.current_key_id = current_key_id
        # The worker's: a payload that was not sealed by a key holder (a client that went around the gateway's
        # codec endpoint, say to enter an event under someone else's name) decodes to one no converter reads,
        # so an update carrying it is rejected before it reaches the case (docs/operators.md).
        self.sealed_only = sealed_only
        self.workflow_id: str | None = None  # from the serialization context (`with_context`)

    def mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` under the current key: what `sinergi.bulk` derives a line's case id from."""
        return hmac.new(self._current_key, data, hashlib.sha256).digest()

    def with_context(self, context: temporalio.converter.SerializationContext) -> EncryptionCodec:
        bound = copy.copy(self)
        bound.workflow_id = getattr(context, "workflow_id", None) or None
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each whole serialized payload (its metadata too) with the current key."""
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt `binary/encrypted` payloads; anything else passes through unchanged, or, `sealed_only`,
        becomes an `binary/unsealed` payload no converter reads."""
        return [self._decrypt(p) if p.metadata.get("encoding") == ENCODING else self._unsealed(p) for p in payloads]

    def _unsealed(self, payload: Payload) -> Payload:
        return _unreadable() if self.sealed_only else payload

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        metadata = {"encoding": ENCODING, KEY_ID_METADATA: key_id}
        if self.workflow_id:
            metadata[WORKFLOW_METADATA] = self.workflow_id.encode()
        # The key id (and the workflow) are authenticated data: relabelling a payload with another key id, or
        # moving it to another workflow, fails to decrypt.
        sealed = self._ciphers[self.current_key_id].encrypt(nonce, payload.SerializeToString(),
                                                            _associated(key_id, metadata.get(WORKFLOW_METADATA)))
        return Payload(metadata=metadata, data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise ValueError(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"payload was encrypted with unknown key id {key_id!r}; add it to the keys file")
        data = payload.data
        bound = payload.metadata.get(WORKFLOW_METADATA)
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(raw_id, bound))
        except InvalidTag:
            raise ValueError(
                f"cannot decrypt payload with key id {key_id!r}: wrong key or tampered data"
            ) from None
        if bound is not None and self.workflow_id and bound.decode(errors="replace") != self.workflow_id:
            if self.sealed_only:
                return _unreadable()
            raise ValueError(f"payload sealed for workflow {bound.decode(errors='replace')!r}, "
                             f"used in {self.workflow_id!r}")
        return Payload.FromString(plain)


def _unreadable() -> Payload:
    """What the worker decodes an unsealed or misplaced payload to: read by no converter, so its update is refused."""
    return Payload(metadata={"encoding": UNSEALED}, data=b"")


def sealed_for(payload: Payload) -> str | None:
    """The workflow a sealed payload is bound to (trust it only once the payload decrypted)."""
    bound = payload.metadata.get(WORKFLOW_METADATA)
    return bound.decode(errors="replace") if bound is not None else None


def _associated(key_id: bytes, workflow_id: bytes | None) -> bytes:
    return key_id if workflow_id is None else key_id + b"\x1f" + workflow_id


def load_keys(path: str | Path) -> dict[str, bytes]:
    """Read a keys file: a JSON object of key id -> base64 of a 32-byte key."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: keys file not found (`sinergi dev` creates one)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read keys file: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: keys file is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{path}: expected a JSON object of key id -> base64 of {KEY_BYTES} bytes")
    keys: dict[str, bytes] = {}
    problem = f"expected base64 of {KEY_BYTES} bytes"
    # Errors name the key id only: key material must never reach logs or terminals.
    for key_id, encoded in raw.items():
        if not key_id:
            raise ConfigError(f"{path}: key ids must not be empty")
        if not isinstance(encoded, str):
            raise ConfigError(f"{path}: key {key_id!r}: {problem}, got a JSON {type(encoded).__name__}")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{path}: key {key_id!r}: {problem}, got invalid base64") from None
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{path}: key {key_id!r}: {problem}, got {len(key)} bytes")
        keys[key_id] = key
    return keys


def ensure_keys_file(path: str | Path, key_id: str) -> None:
    """Create `path` (mode 0600) holding one fresh random key named `key_id`, unless it already exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = json.dumps({key_id: base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}, indent=2)
    try:
        # O_EXCL: never overwrite existing keys, even if another process creates the file concurrently.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fd, 0o600)  # the umask may not be restrictive enough on its own
        fh.write(content + "\n")


def codec_from_settings(settings: CodecSettings, *, sealed_only: bool = False) -> EncryptionCodec:
    """Build the codec from the `[codec]` settings (keys file must exist and hold `key_id`)."""
    keys = load_keys(settings.keys_file)
    if settings.key_id not in keys:
        raise ConfigError(
            f"{settings.keys_file}: codec.key_id: key {settings.key_id!r} not in keys file "
            f"(it has: {', '.join(map(repr, keys))})"
        )
    return EncryptionCodec(keys, settings.key_id, sealed_only=sealed_only)


def data_converter(codec: temporalio.converter.PayloadCodec) -> temporalio.converter.DataConverter:
    """The pydantic data converter with `codec`, encrypting failure messages and details as well."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=temporalio.converter.DefaultFailureConverterWithEncodedAttributes,
    )
