"""Durations as written in policy and agency files: `90s`, `15m`, `24h`, `7d`, `3wd` (working days)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, timedelta, timezone

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*(wd|s|m|h|d|w)\s*$")

# Indonesia keeps no daylight saving: a fixed offset per province is exact, and stays usable inside the
# workflow sandbox where reading the tz database would be I/O. WIB +7, WITA +8, WIT +9.
PROVINCE_UTC_OFFSET_HOURS = {
    "ACEH": 7, "SUMUT": 7, "SUMBAR": 7, "RIAU": 7, "KEPRI": 7, "JAMBI": 7, "SUMSEL": 7, "BABEL": 7,
    "BENGKULU": 7, "LAMPUNG": 7, "DKI": 7, "JABAR": 7, "BANTEN": 7, "JATENG": 7, "DIY": 7, "JATIM": 7,
    "KALBAR": 7, "KALTENG": 7,
    "KALSEL": 8, "KALTIM": 8, "KALTARA": 8, "BALI": 8, "NTB": 8, "NTT": 8, "SULUT": 8, "GORONTALO": 8,
    "SULTENG": 8, "SULBAR": 8, "SULSEL": 8, "SULTRA": 8,
    "MALUKU": 9, "MALUT": 9, "PAPUA": 9, "PAPUABARAT": 9, "PAPUATENGAH": 9, "PAPUAPEGUNUNGAN": 9,
    "PAPUASELATAN": 9, "PAPUABARATDAYA": 9,
}
_ZONE_NAMES = {7: "WIB", 8: "WITA", 9: "WIT"}


class Duration:
    """A parsed duration: whole seconds, or a number of working days (Mon–Fri, local time)."""

    __slots__ = ("seconds", "working_days", "text")

    def __init__(self, text: str) -> None:
        match = _PATTERN.match(text)
        if not match:
            raise ValueError(
                f"{text!r} is not a duration: expected a whole number and a unit, "
                "e.g. '90s', '15m', '24h', '7d', '2w' or '3wd' (working days)"
            )
        amount, unit = int(match.group(1)), match.group(2)
        self.text = text.strip()
        self.working_days = amount if unit == "wd" else 0
        self.seconds = amount * 86400 if unit == "wd" else amount * _UNITS[unit]

    def add_to(self, start: datetime, province: str, days_off: Collection[date] = ()) -> datetime:
        """`start` plus this duration; working days skip Saturdays, Sundays and `days_off` (national
        holidays, cuti bersama: `policy.WorkingDays`) in the province's zone."""
        # rule: T15 — "3 working days"
        if not self.working_days:
            return start + timedelta(seconds=self.seconds)
        zone = province_zone(province)
        local = start.astimezone(zone)
        left = self.working_days
        while left:
            local += timedelta(days=1)
            if local.weekday() < 5 and local.date() not in days_off:
                left -= 1
        return local.astimezone(start.tzinfo)


def province_zone(province: str) -> timezone:
    """The fixed-offset zone of a province (WIB when unknown), named WIB/WITA/WIT."""
    hours = PROVINCE_UTC_OFFSET_HOURS.get(province.upper(), 7)
    return timezone(timedelta(hours=hours), _ZONE_NAMES[hours])


def parse_seconds(text: str) -> int:
    """Whole seconds of a duration that is not in working days."""
    duration = Duration(text)
    if duration.working_days:
        raise ValueError(f"{text!r}: working days are not allowed here; use s, m, h, d or w")
    return duration.seconds
