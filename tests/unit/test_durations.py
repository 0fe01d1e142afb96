"""Durations as policy and agency files write them, and working days in the province's own time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sinergi.domain.durations import Duration, parse_seconds, province_zone

WITA = timezone(timedelta(hours=8))
WIB = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("72h", 3 * 86400), ("7d", 7 * 86400), ("2w", 14 * 86400),
     ("0s", 0), (" 30d ", 30 * 86400), ("3 h", 3 * 3600)],
)
def test_a_duration_is_a_whole_number_and_a_unit(text: str, seconds: int) -> None:
    assert Duration(text).seconds == seconds
    assert Duration(text).working_days == 0
    assert parse_seconds(text) == seconds


def test_working_days_are_counted_apart_from_seconds() -> None:
    duration = Duration("3wd")
    assert duration.working_days == 3
    assert duration.text == "3wd"


@pytest.mark.parametrize("text", ["", "7", "d", "7 days", "1.5h", "-1d", "7D", "1y", "P7D", "7d3h"])
def test_a_bad_duration_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Duration(text)
    message = str(info.value)
    assert f"{text!r} is not a duration" in message
    assert "'90s', '15m', '24h', '7d', '2w' or '3wd'" in message


def test_working_days_are_refused_where_only_elapsed_time_makes_sense() -> None:
    with pytest.raises(ValueError, match="working days are not allowed here"):
        parse_seconds("3wd")


def test_calendar_days_do_not_skip_weekends() -> None:
    # DOMAIN §4: the days of UU 21/2007 Art. 52/53 are counted as calendar days.
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=WITA)
    assert Duration("7d").add_to(friday, "KALSEL") == datetime(2026, 12, 4, 16, 0, tzinfo=WITA)
    assert Duration("1d").add_to(friday, "KALSEL").weekday() == 5  # Saturday


@pytest.mark.rule("T15")
def test_three_working_days_from_friday_afternoon_in_wita_end_on_wednesday_afternoon() -> None:
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=WITA)
    due = Duration("3wd").add_to(friday, "KALSEL")
    assert due == datetime(2026, 12, 2, 16, 0, tzinfo=WITA)
    assert due.astimezone(WITA).strftime("%A %H:%M") == "Wednesday 16:00"


@pytest.mark.rule("T15")
def test_working_days_are_counted_in_the_provinces_zone_whatever_the_input_zone() -> None:
    friday_utc = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # Friday 16:00 WITA
    due = Duration("3wd").add_to(friday_utc, "KALSEL")
    assert due == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert due.tzinfo == UTC, "the result keeps the zone it was given"


@pytest.mark.rule("T15")
def test_an_instant_that_is_already_saturday_in_wita_counts_from_the_weekend() -> None:
    # 16:30 UTC on a Friday is 23:30 Friday in Jakarta (WIB) but 00:30 Saturday in Banjarmasin (WITA).
    instant = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    kalsel = Duration("1wd").add_to(instant, "KALSEL")
    dki = Duration("1wd").add_to(instant, "DKI")
    assert kalsel.astimezone(WITA) == datetime(2026, 11, 30, 0, 30, tzinfo=WITA)  # Monday
    assert dki.astimezone(WIB) == datetime(2026, 11, 30, 23, 30, tzinfo=WIB)  # Monday
    assert dki - kalsel == timedelta(hours=24)


@pytest.mark.rule("T15")
@pytest.mark.parametrize(
    ("start_day", "days", "due_day"),
    [(23, 1, 24), (23, 5, 30), (28, 1, 30), (29, 1, 30), (27, 5, 4)],  # 23 Nov 2026 is a Monday
)
def test_working_days_skip_saturdays_and_sundays(start_day: int, days: int, due_day: int) -> None:
    start = datetime(2026, 11, start_day, 10, 0, tzinfo=WITA)
    due = Duration(f"{days}wd").add_to(start, "KALSEL").astimezone(WITA)
    assert due.day == due_day and due.time() == start.time()
    assert due.weekday() < 5


@pytest.mark.rule("T15")
def test_working_days_also_skip_the_days_off_they_are_given() -> None:
    # Lebaran 2026 in Banjarmasin: Nyepi Thursday, cuti bersama Friday, Idul Fitri at the weekend, cuti
    # bersama Monday and Tuesday. Three working days from Wednesday end on the Friday after.
    wednesday = datetime(2026, 3, 18, 10, 0, tzinfo=WITA)
    lebaran = frozenset({date(2026, 3, 19), date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24)})
    assert Duration("3wd").add_to(wednesday, "KALSEL", lebaran) == datetime(2026, 3, 27, 10, 0, tzinfo=WITA)
    assert Duration("3wd").add_to(wednesday, "KALSEL") == datetime(2026, 3, 23, 10, 0, tzinfo=WITA)
    assert Duration("72h").add_to(wednesday, "KALSEL", lebaran) == wednesday + timedelta(hours=72)


@pytest.mark.rule("T15")
def test_a_day_off_is_counted_on_the_provinces_own_date() -> None:
    # 15:30 UTC on 18 March: 22:30 on the 18th in Jakarta, already 00:30 on the 19th (Nyepi) in Jayapura.
    instant = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
    nyepi = frozenset({date(2026, 3, 19)})
    # Without days off one working day ends at the same instant in both; Jakarta's next day is Nyepi,
    # so its working day is Friday the 20th, while Jayapura's next day is already Friday.
    assert Duration("1wd").add_to(instant, "DKI") == Duration("1wd").add_to(instant, "PAPUA")
    dki, papua = Duration("1wd").add_to(instant, "DKI", nyepi), Duration("1wd").add_to(instant, "PAPUA", nyepi)
    assert dki.astimezone(WIB) == datetime(2026, 3, 20, 22, 30, tzinfo=WIB)
    assert dki - papua == timedelta(days=1)


@pytest.mark.parametrize(("province", "hours", "name"),
                         [("KALSEL", 8, "WITA"), ("kalsel", 8, "WITA"), ("DKI", 7, "WIB"), ("PAPUA", 9, "WIT"),
                          ("ATLANTIS", 7, "WIB")])
def test_each_province_has_its_fixed_indonesian_zone(province: str, hours: int, name: str) -> None:
    zone = province_zone(province)
    assert zone.utcoffset(None) == timedelta(hours=hours)
    assert zone.tzname(None) == name
