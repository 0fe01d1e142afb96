"""The work behind `sinergi admin`: registering search attributes and replaying histories, kept apart
from the click layer so tests (and other tools) can call it with their own workflows or converter."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from google.protobuf.json_format import Error as ProtobufJSONError
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from sinergi.commands.console import BAD_INPUT, UserError
from sinergi.commands.language import _
from sinergi.platform.codec import EncryptionCodec, data_converter, load_keys
from sinergi.platform.config import ConfigError, Settings
from sinergi.platform.temporal import connect, converter_for, ensure_search_attributes
from sinergi.replay import DEFAULT_QUERY, ReplayReport, load_history, namespace_histories, replay
from sinergi.workflows.messages import SEARCH_ATTRIBUTES

# How a history fails that the loaded keys cannot decode: its key id unknown, or known with another key
# (sinergi.platform.codec's messages).
_UNDECODABLE = re.compile(r"(?:unknown key id|cannot decrypt payload with key id) '([^']*)'")


async def register_search_attributes(settings: Settings) -> tuple[list[str], list[str]]:
    """Register the missing case search attributes; return (added, already present)."""
    client = await connect(settings, payloads=False)  # no payload: the setup container holds no keys
    added = await ensure_search_attributes(client, settings.temporal.namespace)
    present = sorted(k.name for k in SEARCH_ATTRIBUTES if k.name not in added)
    return added, present


def read_histories(files: Sequence[Path]) -> list[WorkflowHistory]:
    """Parse saved history files; a missing, unreadable or malformed file is bad input naming the file."""
    histories = []
    for path in files:
        try:
            histories.append(load_history(path))
        except OSError as exc:
            raise UserError(_("{path}: cannot read ({error})").format(path=path, error=exc.strerror),
                            BAD_INPUT) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(_("{path}: not a JSON history: {error}").format(path=path, error=exc), BAD_INPUT) from exc
        except (ProtobufJSONError, KeyError, TypeError, ValueError, AttributeError) as exc:
            # Valid JSON, but not the protobuf JSON form of a Temporal history.
            raise UserError(_("{path}: not a Temporal history ({error})").format(
                path=path, error=f"{type(exc).__name__}: {exc}"), BAD_INPUT,
                hint=_("save one with `temporal workflow show -w ID --output json`")) from exc
    return histories


async def replay_histories(settings: Settings, histories: Sequence[WorkflowHistory], from_namespace: bool,
                           query: str | None = None, limit: int = 100,
                           workflows: list[type] | None = None, converter: DataConverter | None = None) -> ReplayReport:
    """Replay `histories`, then (with `from_namespace`) the newest `limit` executions matching `query`.

    The converter comes from the settings unless given (`replay_converter`): the same codec keys the workers
    use decode the payloads.
    """
    converter = converter or converter_for(settings)
    runtime = _quiet_runtime()
    report = await replay(histories, converter, workflows, runtime)
    if from_namespace:
        client = await connect(settings)
        live = await replay(namespace_histories(client, query or DEFAULT_QUERY, limit), converter, workflows,
                            runtime)
        report.replayed += live.replayed
        report.failures.update(live.failures)
    return report


def replay_converter(settings: Settings, keys_files: Sequence[Path], test_key: bool) -> DataConverter:
    """A converter that decodes with the configured keys file (when it exists, or when nothing else is given),
    every `keys_files`, and with `test_key` the public test-only key `tests/replay/histories` were recorded with.
    It only decodes here: a replay writes nothing."""
    if not keys_files and not test_key:
        try:
            return converter_for(settings)
        except ConfigError as exc:
            raise UserError(str(exc), BAD_INPUT, code="invalid_config",
                            hint=_("give the keys the histories were encrypted with: --keys FILE, or --test-key "
                                   "for tests/replay/histories")) from exc
    keys: dict[str, bytes] = {}
    if settings.codec.keys_file.is_file():
        keys.update(load_keys(settings.codec.keys_file))
    for path in keys_files:
        for key_id, key in load_keys(path).items():
            if keys.get(key_id, key) != key:
                raise UserError(_("{path}: key {key_id!r} differs from the key of that id already loaded").format(
                    path=path, key_id=key_id), BAD_INPUT, code="invalid_config")
            keys[key_id] = key
    if test_key:
        from sinergi.testing.cases import TEST_KEY, TEST_KEY_ID

        keys[TEST_KEY_ID] = TEST_KEY
    current = settings.codec.key_id if settings.codec.key_id in keys else next(iter(keys))
    return data_converter(EncryptionCodec(keys, current))


def undecodable(report: ReplayReport) -> dict[str, str]:
    """The histories the loaded keys could not decode, each with the key id its payloads name: a key is
    missing (or wrong), the code was not even checked."""
    found = {label: _UNDECODABLE.search(failure) for label, failure in report.failures.items()}
    return {label: match.group(1) for label, match in found.items() if match}


def _quiet_runtime() -> Runtime:
    # The SDK core logs each failing replay as a warning on stdout; the report already says it, and
    # stdout must hold only the report (`--json`).
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))
