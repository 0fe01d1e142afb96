"""Which language the CLI speaks (SPEC "Language"): `--lang`, else `SINERGI_LANG`, else `[ui] language`, else the
locale (`id_*` is Bahasa Indonesia), else English; one rule for every command, the guided intake and the reports
included. Dates as people write them, in the case's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from sinergi.cli import cli
from sinergi.commands.language import (
    UnknownLanguage,
    configured_language,
    guess_language,
    local_datetime,
    resolve_language,
    speaking,
)
from sinergi.commands.profiles import settings_for
from sinergi.domain.durations import province_zone
from sinergi.platform import i18n


@pytest.mark.parametrize(("explicit", "env", "configured", "expected"), [
    ("en", {"SINERGI_LANG": "id", "LANG": "id_ID.UTF-8"}, "id", "en"),
    (None, {"SINERGI_LANG": "id", "LANG": "en_US.UTF-8"}, "en", "id"),
    (None, {"LANG": "en_US.UTF-8"}, "id", "id"),  # the deployment's choice before the locale
    (None, {"LANG": "id_ID.UTF-8"}, None, "id"),
    (None, {"LANG": "id"}, None, "id"),
    (None, {"LC_MESSAGES": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, None, "id"),
    (None, {"LC_ALL": "C", "LANG": "id_ID.UTF-8"}, None, "en"),  # POSIX: LC_ALL decides when it is set
    (None, {"LC_ALL": "", "LANG": "id_ID.UTF-8"}, None, "id"),  # ... and an empty one is not set
    (None, {"LANG": "C.UTF-8"}, None, "en"),
    (None, {"LANG": "fr_FR.UTF-8"}, None, "en"),
    (None, {"LANG": "ind_ID"}, None, "en"),
    (None, {}, None, "en"),
])
def test_the_language_is_asked_for_else_set_else_configured_else_the_locales_else_english(
        explicit, env, configured, expected) -> None:
    assert resolve_language(explicit, env, configured) == expected


def test_a_language_we_do_not_speak_is_refused_naming_where_it_was_asked() -> None:
    with pytest.raises(UnknownLanguage, match="SINERGI_LANG: language 'fr': expected one of id, en"):
        resolve_language(None, {"SINERGI_LANG": "fr"})


def test_the_configuration_is_read_only_when_nothing_before_it_decides() -> None:
    asked = []
    assert resolve_language(None, {"SINERGI_LANG": "en"}, lambda: asked.append(1) or "id") == "en"
    assert asked == []


def test_the_configured_language_is_the_settings_own(tmp_path, monkeypatch) -> None:
    # Read without loading the settings (`--help` stays fast), but to the same answer as the settings give.
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    (home / ".config" / "sinergi").mkdir(parents=True)
    (tmp_path / "staging.toml").write_text('[ui]\nlanguage = "en"\n')
    (home / ".config" / "sinergi" / "config.toml").write_text(
        '[profiles.kalsel.ui]\nlanguage = "id"\n[profiles.staging]\nconfig = "../../../staging.toml"\n')
    def check(extra, config, profile, expected) -> None:
        env = {"HOME": str(home), **extra}
        assert configured_language(config, profile, env) == expected, (extra, config, profile)
        assert settings_for(config, profile, env).ui.language == expected, (extra, config, profile)

    check({}, None, None, None)
    check({"SINERGI_UI_LANGUAGE": "id"}, None, None, "id")
    check({}, None, "kalsel", "id")
    check({"SINERGI_UI_LANGUAGE": "en"}, None, "kalsel", "en")  # a variable beats the profile, as for every key
    check({}, None, "staging", "en")  # the profile's sinergi.toml
    check({"SINERGI_PROFILE": "kalsel"}, None, None, "id")
    (tmp_path / "sinergi.toml").write_text('[ui]\nlanguage = "id"\n')
    check({}, None, None, "id")  # ./sinergi.toml
    check({}, str(tmp_path / "staging.toml"), None, "en")  # --config


def test_the_command_line_is_read_before_click_parses_it() -> None:
    assert guess_language(["case", "status", "--lang", "id", "X"], {}) == "id"
    assert guess_language(["--lang=en", "case", "status"], {"LANG": "id_ID.UTF-8"}) == "en"
    assert guess_language(["--lang", "fr", "case"], {"LANG": "id_ID.UTF-8"}) == "id"  # click refuses `fr` itself
    assert guess_language(["case", "event", "X", "T", "--", "--lang", "id"], {}) == "en"


def sinergi(*args: str, **env: str):
    return CliRunner().invoke(cli, list(args), prog_name="sinergi", env={"NO_COLOR": "1", **env})


def test_the_deployments_language_speaks_unless_the_operator_asks_otherwise(tmp_path) -> None:
    config = tmp_path / "sinergi.toml"
    config.write_text('[ui]\nlanguage = "id"\n')
    assert "Penggunaan: sinergi case status" in sinergi("case", "status", "--help", SINERGI_CONFIG=str(config)).output
    assert "Usage:" in sinergi("case", "status", "--help", SINERGI_CONFIG=str(config), SINERGI_LANG="en").output
    # `--lang` on the command itself, as on the root.
    assert "Usage:" in sinergi("case", "status", "--lang", "en", "--help", SINERGI_CONFIG=str(config)).output
    assert "Penggunaan:" in sinergi("--lang", "id", "case", "status", "--help").output


def test_a_language_we_do_not_speak_is_bad_input_and_json_says_which_code() -> None:
    refused = sinergi("case", "list", "--json", SINERGI_LANG="fr")
    assert refused.exit_code == 2
    body = json.loads(refused.stdout)
    assert body["error"] == "bad_language" and "expected one of id, en" in body["message"]
    usage = sinergi("--lang", "fr", "case", "list")
    assert usage.exit_code == 2 and "'fr' is not one of 'id', 'en'" in usage.output


def test_a_usage_error_is_told_in_the_language_asked_for() -> None:
    missing = sinergi("case", "status", LANG="id_ID.UTF-8")
    assert missing.exit_code == 2
    assert "Kesalahan: Argumen belum diberikan 'CASE_ID'." in missing.output
    assert "Coba 'sinergi case status --help' untuk bantuan." in missing.output
    as_json = sinergi("case", "status", "--json", LANG="id_ID.UTF-8")
    body = json.loads(as_json.stdout)
    assert body["error"] == "missing_argument"
    assert body["hint"] == "`sinergi case status --help` menjelaskan apa yang diperlukan"


@pytest.mark.parametrize("language", ["id", "en"])
def test_dates_are_written_as_people_write_them_in_the_cases_zone(language) -> None:
    # The CLI's dates (no Babel at start) are the offices' dates (`sinergi.platform.i18n`), month by month.
    for month in range(1, 13):
        moment = datetime(2026, month, 27, 0, 0, tzinfo=UTC)
        for province in ("KALSEL", "DKI", "PAPUA"):
            zone = province_zone(province)
            with speaking(language):
                assert local_datetime(moment, zone) == i18n.local_datetime(moment, zone, language)
    with speaking("id"):
        assert local_datetime(datetime(2026, 11, 27, 0, 0, tzinfo=UTC), province_zone("KALSEL")) == (
            "27 November 2026 08.00 WITA")
    with speaking("en"):
        assert local_datetime(datetime(2026, 12, 3, 0, 0, tzinfo=UTC), province_zone("DKI")) == (
            "3 December 2026 07:00 WIB")


# --- the domain's and the policies' words, in text only --------------------------------------------------------

SCREENING_OUTCOME = ("what the screening found: a presumed victim (protection follows), not a victim (the case "
                     "closes), or more information needed (screening goes on)")


def test_events_text_tells_the_fields_and_the_policys_words_in_the_language_asked_for() -> None:
    # The models' descriptions and the shipped policy's sources are English (the API schema, `--json`); a person
    # reads them in the run's language. A law's name stays as written.
    shown = sinergi("events", "identification.screening_completed", "--lang", "id", SINERGI_LANG="")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "hasil penapisan: terduga korban (dilanjutkan dengan pelindungan)" in text
    assert "bawaan sinergi (tanpa dasar undang-undang)" in text
    assert "standar layanan setempat (UPTD PPA)" in text
    assert "Council of Europe Convention on Action against Trafficking Art. 13" in text
    assert SCREENING_OUTCOME not in text and "sinergi default" not in text and "local service standard" not in text
    english = " ".join(sinergi("events", "identification.screening_completed", "--lang", "en").output.split())
    assert SCREENING_OUTCOME in english and "sinergi default (no statute)" in english


def test_events_json_stays_the_models_english_in_every_language() -> None:
    documents = [json.loads(sinergi("events", "identification.screening_completed", "--json", "--lang", language,
                                    SINERGI_LANG="").stdout) for language in ("id", "en")]
    assert documents[0] == documents[1]
    (doc,) = documents[0]
    assert doc["fields"][0]["description"] == SCREENING_OUTCOME
    assert {c["source"] for c in doc["starts"]} >= {"sinergi default (no statute)"}


def test_policy_show_tells_sinergis_words_translated_a_laws_name_and_a_custom_policys_as_written(tmp_path) -> None:
    from sinergi.cli_catalogs import POLICIES

    custom = tmp_path / "custom.toml"
    custom.write_text(next(p for p in POLICIES if p.stem == "default").read_text("utf-8").replace(
        '"local service standard (UPTD PPA)"', '"Perda Kalsel 9/2026 (our own rule)"'))
    shown = sinergi("policy", "show", "--policy", str(custom), "--lang", "id", SINERGI_LANG="")
    assert shown.exit_code == 0, shown.output
    for words in ("bawaan sinergi (tanpa dasar undang-undang)", "pernyataan LPSK", "UU 21/2007 Art. 52(1)",
                  "Perda Kalsel 9/2026 (our own rule)", "hari kerja (wd): Senin sampai Jumat",
                  "Keppres tentang hari libur nasional"):
        assert words in shown.output, words
    for english in ("sinergi default", "statements", "working days", "Monday"):
        assert english not in shown.output, english


@pytest.mark.parametrize("days", [
    {}, {"days_off": []}, {"calendar": None, "days_off": ["2026-08-17"]},
    {"joint_leave": False, "days_off": ["2026-01-01", "2027-08-17"]}, {"source": "Perda 1/2026"},
])
def test_the_working_days_line_says_in_english_what_the_policy_says(days) -> None:
    # `policy show` words the working days for the catalog: in English, `WorkingDays.summary` to the letter.
    from sinergi.commands.registry import working_days_text
    from sinergi.domain.policy import WorkingDays

    rule = WorkingDays(**{"days_off": ["2026-01-01", "2029-12-25"], **days})
    with speaking("en"):
        assert working_days_text(rule) == rule.summary
