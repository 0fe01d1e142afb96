"""The CLI in both of its languages (SPEC "Language"), against the dev server and a real worker: one case, read and
refused under an Indonesian locale and under `--lang en`. The words change; the JSON (keys, codes, event types,
ids), the error codes and the exit codes do not."""

from __future__ import annotations

import asyncio
import json
import re

from cli_kit import Cli, Result, intake_dict

# `27 November 2026 08.00 WITA`: a time as Indonesians write it, in the case's zone.
INDONESIAN_TIME = re.compile(r"\b\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|"
                             r"November|Desember) \d{4} \d\d\.\d\d WITA\b")
ENGLISH_TIME = re.compile(r"\b\d{1,2} [A-Z][a-z]+ \d{4} \d\d:\d\d WITA\b")


def shape(value):
    """The JSON's shape: its keys and the types of its values, all the way down."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


async def test_one_case_in_bahasa_indonesia_and_in_english(cli: Cli, home):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    opened = await cli("case", "open", str(intake), "--json")
    assert opened.code == 0, str(opened)
    case_id = opened.json()["case_id"]

    # The locale says Indonesian; `--lang en` overrides it (and SINERGI_LANG would override the locale too).
    indonesian = cli.with_env(LANG="id_ID.UTF-8")
    commands = {
        "status": ("case", "status", case_id),
        "why": ("case", "why", case_id),
        "refused": ("case", "event", case_id, "reintegration.completed"),
        "unknown": ("case", "event", case_id, "protection.bogus"),
        "status --json": ("case", "status", case_id, "--json"),
        "why --json": ("case", "why", case_id, "--json"),
        "refused --json": ("case", "event", case_id, "reintegration.completed", "--json"),
        "unknown --json": ("case", "event", case_id, "protection.bogus", "--json"),
    }
    runs = await asyncio.gather(*(indonesian(*args) for args in commands.values()),
                                *(indonesian(*args, "--lang", "en") for args in commands.values()))
    id_ = dict(zip(commands, runs[:len(commands)], strict=True))
    en = dict(zip(commands, runs[len(commands):], strict=True))

    def text(result: Result, code: int = 0) -> str:
        assert result.code == code, str(result)
        assert "Traceback" not in result.stdout + result.stderr, str(result)
        return result.stdout + result.stderr

    # Bahasa Indonesia: the glossary's words (tahap, rujukan, tenggat, peristiwa), dates the Indonesian way.
    status = text(id_["status"])
    assert f"{case_id}  tahap identifikasi" in status and "RUJUKAN" in status and "TENGGAT" in status, status
    assert "persetujuan  layanan ya" in status and INDONESIAN_TIME.search(status), status
    # A shipped policy's own words as its source are translated (a law's name would stay as written).
    assert "bawaan sinergi (tanpa dasar undang-undang)" in status and "sinergi default" not in status, status
    why = text(id_["why"])
    for words in (f"{case_id} berada pada tahap identifikasi", "Kantor penanggung jawab kasus: bp3mi_kalsel",
                  "Menunggu:", "Tenggat berikutnya:", "Peristiwa yang diterima saat ini:", "referral.acknowledged",
                  "menurut bawaan sinergi (tanpa dasar undang-undang)", "report_number (teks)"):
        assert words in why, why
    assert "sinergi default" not in why and "(string)" not in why, why
    assert INDONESIAN_TIME.search(why), why
    refused = text(id_["refused"], 1)
    assert refused.startswith("kesalahan: reintegration.completed ditolak: kasus berada pada tahap "
                              "identifikasi"), refused
    assert "petunjuk: jenis peristiwa yang diterima saat ini: " in refused, refused
    unknown = text(id_["unknown"], 2)
    assert unknown.startswith("kesalahan: jenis peristiwa tidak dikenal: 'protection.bogus'"), unknown

    # English, asked for with --lang.
    status = text(en["status"])
    assert f"{case_id}  stage identification" in status and "REFERRALS" in status and ENGLISH_TIME.search(status)
    why = text(en["why"])
    assert f"{case_id} is in identification" in why and "Waiting on:" in why and "Next deadline:" in why, why
    assert "set by sinergi default (no statute)" in why and "report_number (text)" in why, why
    assert "sinergi default (no statute)" in status, status
    assert text(en["refused"], 1).startswith("error: reintegration.completed refused: the case is in identification")
    assert text(en["unknown"], 2).startswith("error: unknown event type 'protection.bogus'")

    # JSON: the same document in both languages (the case did not move meanwhile); errors keep their code, their
    # details and their exit code, and only the message and the hint are in the reader's language.
    for name in ("status --json", "why --json"):
        assert json.loads(text(id_[name])) == json.loads(text(en[name])), name
    for name, code in (("refused --json", 1), ("unknown --json", 2)):
        ours, theirs = json.loads(text(id_[name], code)), json.loads(text(en[name], code))
        assert shape(ours) == shape(theirs) and ours["error"] == theirs["error"], (ours, theirs)
        assert ours["details"] == theirs["details"] and ours["message"] != theirs["message"], (ours, theirs)
    assert json.loads(id_["refused --json"].stdout)["message"].startswith("reintegration.completed ditolak")
