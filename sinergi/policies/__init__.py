"""The shipped policies (`default`, `demo`: TOML files beside this module) and the loader of any policy file.

Loading is I/O — the file, and the `holidays` library's calendar for the days off — so it lives here, not
in `sinergi.domain.policy`, which holds the models the workflow carries.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import ValidationError

from sinergi.domain.policy import Policy
from sinergi.platform.tomlfiles import read_toml

BUILTIN_POLICIES = ("default", "demo")


class PolicyError(Exception):
    """A policy file that cannot be used; the message names the file and the key."""


def load_policy(name_or_path: str | Path, today: date | None = None) -> Policy:
    """Load `default`, `demo`, or a policy TOML file, its days off resolved for the years around `today`."""
    file = read_toml(name_or_path, package=__name__, shipped=BUILTIN_POLICIES, what="policy", error=PolicyError)
    label, default_name, raw = file.label, file.stem, file.data
    tables = raw.pop("clocks", {})
    for key, value in tables.items() if isinstance(tables, dict) else [("", tables)]:
        if not isinstance(value, dict) or value.get("id", key) != key:
            raise PolicyError(f"{label}: clocks{key and '.' + key}: expected a [clocks.{key or '<ID>'}] table "
                              "(its id is the table key)")
    clocks = [{"id": key, **value} for key, value in tables.items()]
    try:
        loaded = Policy.model_validate({"name": raw.pop("name", default_name), "clocks": clocks, **raw})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            if loc[:1] == ["clocks"] and len(loc) > 1 and isinstance(loc[1], int):
                loc = ["clocks", clocks[loc[1]]["id"], *loc[2:]]
            lines.append(f"{label}: {'.'.join(str(p) for p in loc)}: {err['msg']}")
        raise PolicyError("\n".join(lines)) from exc
    return with_days_off(loaded, label, today or date.today())


# Years of days off resolved around the day a policy loads: cases open for years (the legal track)
# count working days in later years too. Beyond them only weekends are skipped.
YEARS_BEFORE, YEARS_AFTER = 1, 3


def with_days_off(policy: Policy, label: str, today: date) -> Policy:
    """`policy` with `working_days.days_off` resolved: the calendar's (unless the file lists its own days
    off) and the extra days off."""
    rule = policy.working_days
    if not any(d.working_days for c in policy.clocks for d in c.durations):
        return policy  # no clock counts working days (e.g. `demo`)
    days = set(rule.days_off) | set(rule.extra_days_off)
    if rule.calendar and not rule.days_off:  # days off listed in the file stand in for the calendar
        import holidays  # here, not at module level: the workflow sandbox imports this module

        try:
            calendar = holidays.country_holidays(rule.calendar)
        except NotImplementedError:
            raise PolicyError(f"{label}: working_days.calendar: {rule.calendar!r} is not a calendar the holidays "
                              "library knows (e.g. 'ID'); or set it to \"\" and list extra_days_off") from None
        wanted = {holidays.PUBLIC} | ({holidays.GOVERNMENT} if rule.joint_leave else set())
        categories = tuple(wanted & set(calendar.supported_categories))
        years = range(today.year - YEARS_BEFORE, today.year + YEARS_AFTER + 1)
        days |= set(holidays.country_holidays(rule.calendar, years=years, categories=categories))
    resolved = rule.model_copy(update={"days_off": sorted(days)})
    return policy.model_copy(update={"working_days": resolved})
