"""Per-case data keys (envelope encryption): what makes a case's personal data erasable on its own.

Each case gets a random 256-bit data key. Its personal data is sealed with that key (AES-256-GCM), and the key
itself is stored only wrapped — AES-256-GCM again — under a key-encryption key derived from a codec key
(`[codec] keys_file`, the same file that encrypts Temporal payloads). Deleting a case's wrapped key makes its
personal data unreadable for good, whoever holds the codec keys: that is how `erase` works.

The key-encryption key is derived (HKDF-SHA256, its own `info` label) rather than the codec key used as it is,
so one key never encrypts two kinds of things. A wrapped key names the codec key id it was wrapped with, so
rotating `[codec] key_id` keeps older cases readable while the old key stays in the keys file.
Authenticated data binds every ciphertext to its case (and a sealed item to its id): a wrapped key or a sealed
row copied onto another case fails to open instead of showing one person's data under another's case.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sinergi.platform.codec import KEY_BYTES, NONCE_BYTES, load_keys
from sinergi.platform.config import CodecSettings, ConfigError
from sinergi.records._errors import KeyUnavailable

# Changing a label makes every stored key or item unreadable: they are part of the stored format.
WRAP_INFO = b"sinergi case record: case data key wrapping v1"
SEAL_LABEL = b"sinergi case record: personal item v1"


class CaseKeys:
    """Wraps and unwraps per-case data keys with keys derived from the codec keys; seals and opens items."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not among the loaded keys")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r}: expected {KEY_BYTES} bytes, got {len(key)}")
        self._wrappers = {key_id: AESGCM(_derive(key)) for key_id, key in keys.items()}
        self.current_key_id = current_key_id

    @classmethod
    def from_settings(cls, settings: CodecSettings) -> CaseKeys:
        """The keys of `[codec]`: its keys file, wrapping new case keys with `key_id`."""
        keys = load_keys(settings.keys_file)
        if settings.key_id not in keys:
            raise ConfigError(f"{settings.keys_file}: codec.key_id: key {settings.key_id!r} not in keys file")
        return cls(keys, settings.key_id)

    def new_data_key(self, case_id: str) -> tuple[str, bytes, bytes]:
        """A fresh data key for `case_id`: (codec key id, the key wrapped, the key itself)."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrappers[self.current_key_id].encrypt(nonce, data_key, _aad(case_id))
        return self.current_key_id, wrapped, data_key

    def unwrap(self, case_id: str, key_id: str, wrapped: bytes) -> bytes:
        """The data key of `case_id`; `KeyUnavailable` when `key_id` is not loaded or the key is wrong."""
        wrapper = self._wrappers.get(key_id)
        if wrapper is None:
            raise KeyUnavailable(f"case {case_id}: its data key was wrapped with codec key id {key_id!r}, which is "
                                 f"not in the keys file (it has: {', '.join(map(repr, self._wrappers))})")
        try:
            return wrapper.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(case_id))
        except InvalidTag:
            raise KeyUnavailable(f"case {case_id}: cannot unwrap its data key with codec key id {key_id!r}: "
                                 "wrong key, or the record was tampered with") from None


def seal(data_key: bytes, case_id: str, item_id: str, plain: bytes) -> bytes:
    """`plain` encrypted with the case's data key, bound to the case and the item's id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plain, _aad(case_id, item_id, label=SEAL_LABEL))


def unseal(data_key: bytes, case_id: str, item_id: str, sealed: bytes) -> bytes:
    """The plain bytes of a sealed item; `KeyUnavailable` if it does not open with this case's key."""
    try:
        return AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                        _aad(case_id, item_id, label=SEAL_LABEL))
    except InvalidTag:
        raise KeyUnavailable(f"case {case_id}: personal item {item_id!r} does not open with the case's data "
                             "key: the record was tampered with") from None


def _derive(codec_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=WRAP_INFO).derive(codec_key)


def _aad(case_id: str, *parts: str, label: bytes = WRAP_INFO) -> bytes:
    # The unit separator cannot occur in a case id or an item id, so (case, item) pairs never collide.
    return b"\x1f".join([label, case_id.encode(), *(part.encode() for part in parts)])
