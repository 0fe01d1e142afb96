"""Bulk intake for a mass rescue: hundreds of victims at once, from a JSON Lines file.

Each line gets a case id derived from its content with a keyed hash (HMAC-SHA256 under the codec key), so
running the same file again opens nothing twice, and the id reveals nothing about the person. A CLI with the keys
derives it itself; a laptop without them asks the gateway (`POST /codec/case-ids`, `remote_suffixes`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from sinergi.cases import CaseError, CaseExists, Cases
from sinergi.domain.ids import CROCKFORD
from sinergi.domain.intake import Intake
from sinergi.domain.limits import DOCUMENT_MAX_BYTES, STRICT


@dataclass
class BulkResult:
    opened: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def canonical(line: str) -> bytes:
    """A line as its case id is derived from: the JSON object with sorted keys and no spaces."""
    return canonical_of(json.loads(line))


def canonical_of(value: object) -> bytes:
    """`canonical` of a line already parsed (the gateway parses each line with its bounds first)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def suffix_of(mac: bytes) -> str:
    """A case id's last part from a line's keyed hash: its first 40 bits in Crockford base 32."""
    digest = int.from_bytes(mac[:5], "big")
    return "".join(CROCKFORD[(digest >> (5 * i)) & 31] for i in reversed(range(8)))


def case_id_for(intake: Intake, suffix: str) -> str:
    return f"{intake.province}-{intake.received_at.year}-{suffix}"


def line_case_id(intake: Intake, line: str, key: bytes) -> str:
    return case_id_for(intake, suffix_of(hmac.new(key, canonical(line), hashlib.sha256).digest()))


def parse_lines(text: str) -> tuple[list[tuple[int, str, Intake]], list[dict]]:
    good: list[tuple[int, str, Intake]] = []
    bad: list[dict] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            if len(line.encode()) > DOCUMENT_MAX_BYTES:
                raise ValueError(f"the intake is larger than {DOCUMENT_MAX_BYTES // 1024} KiB")
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("expected a JSON object (one intake per line)")
            good.append((number, line, Intake.model_validate(raw, context=STRICT)))
        except json.JSONDecodeError as exc:
            bad.append({"line": number, "error": f"not valid JSON: {exc.msg} at column {exc.colno}"})
        except ValidationError as exc:
            from sinergi.commands.console import validation_lines

            bad.append({"line": number, "error": "; ".join(validation_lines(exc))})
        except ValueError as exc:
            bad.append({"line": number, "error": str(exc)})
    return good, bad


async def open_all(cases: Cases, items: list[tuple[int, str, Intake]], key: bytes | None = None,
                   progress: Callable[[int], None] = lambda n: None, concurrency: int = 16, *,
                   suffixes: Sequence[str] | None = None) -> BulkResult:
    """Open a case per item, its id from `key` (the codec key), or from `suffixes` (one per item, in order: the
    gateway's, `remote_suffixes`)."""
    result = BulkResult()
    gate = asyncio.Semaphore(concurrency)
    given = dict(zip((number for number, _line, _intake in items), suffixes, strict=True)) if suffixes else {}

    async def one(number: int, line: str, intake: Intake) -> None:
        async with gate:
            case_id = case_id_for(intake, given[number]) if given else line_case_id(intake, line, key)
            try:
                await cases.open(intake, case_id=case_id)
                result.opened.append(case_id)
            except CaseExists:
                result.existing.append(case_id)
            except CaseError as exc:
                result.rejected.append({"line": number, "error": str(exc)})
            finally:
                progress(1)

    await asyncio.gather(*(one(*item) for item in items))
    result.opened.sort()
    result.existing.sort()
    result.rejected.sort(key=lambda r: r["line"])
    return result
