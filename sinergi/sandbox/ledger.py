"""What each sandbox agency received, by idempotency key: the proof that nothing arrived twice.

`applied` counts the times a message was acted on (never more than one); `attempts` counts every
signed request bearing its key, including those refused during an outage, so retries can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["referral", "notice"]


def dotted_fields(data: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of the leaves of a nested payload (`person.full_name`, ...)."""
    out: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        out.extend(dotted_fields(value, f"{path}.") if isinstance(value, dict) else [path])
    return out


@dataclass
class Entry:
    """One message an office was sent, however many times."""

    kind: Kind
    key: str
    attempts: int = 0
    applied: int = 0
    duplicates: int = 0
    refused: int = 0  # answered 5xx during an outage or by the failure rate
    first_at: datetime | None = None
    applied_at: datetime | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> str | None:
        return self.body.get("case_id")

    def summary(self) -> dict[str, Any]:
        """What `GET /ledger` shows: counts and field names, never the personal data itself."""
        return {
            "kind": self.kind, "key": self.key, "case_id": self.case_id, "attempts": self.attempts,
            "applied": self.applied, "duplicates": self.duplicates, "refused": self.refused,
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "service": self.body.get("service"), "purpose": self.body.get("purpose"),
            "fields": sorted(dotted_fields(self.body.get("data") or {})),
        }


@dataclass
class AgencyLedger:
    """Entries per office, keyed by the `Idempotency-Key` of the requests."""

    offices: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def attempt(self, office: str, kind: Kind, key: str) -> Entry:
        entry = self.offices.setdefault(office, {}).setdefault(key, Entry(kind=kind, key=key))
        entry.attempts += 1
        entry.first_at = entry.first_at or datetime.now(UTC)
        return entry

    def apply(self, entry: Entry, body: dict[str, Any]) -> bool:
        """Record `body` as acted on; False if it already was (a duplicate, not re-applied)."""
        if entry.applied:
            entry.duplicates += 1
            return False
        entry.applied, entry.applied_at, entry.body = 1, datetime.now(UTC), body
        return True

    def entries(self, office: str | None = None, kind: Kind | None = None,
                case_id: str | None = None) -> list[tuple[str, Entry]]:
        return [(o, e) for o, by_key in self.offices.items() if office in (None, o)
                for e in by_key.values() if kind in (None, e.kind) and case_id in (None, e.case_id)]

    def received(self, office: str, kind: Kind = "referral") -> dict[str, dict[str, Any]]:
        """The bodies an office acted on, by key."""
        return {e.key: e.body for _, e in self.entries(office, kind) if e.applied}

    def snapshot(self, case_id: str | None = None) -> dict[str, Any]:
        """The JSON of `GET /ledger`: per office, per key; totals across offices."""
        shown = self.entries(case_id=case_id)
        offices: dict[str, dict[str, Any]] = {}
        for office, entry in shown:
            offices.setdefault(office, {})[entry.key] = entry.summary()
        totals = {name: sum(getattr(e, name) for _, e in shown)
                  for name in ("attempts", "applied", "duplicates", "refused")}
        return {"offices": offices, "totals": {"messages": len(shown), **totals}}
