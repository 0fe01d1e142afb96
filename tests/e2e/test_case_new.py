"""`sinergi case new`, the guided intake, driven as an operator drives it: the real program on a pseudo-terminal
(pexpect), answering its questions in Bahasa Indonesia or English. Sessions that write the intake run with
`--no-open` and need no server; one opens its case against the dev server and a real worker.

Set SINERGI_SHOW_TRANSCRIPT=1 (with `pytest -s`) to print the full Indonesian session as the operator saw it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pexpect
import pytest
from cli_kit import ANSI, SINERGI, Cli, base_env

from sinergi import cli_catalogs
from sinergi.commands import intake_wizard
from sinergi.commands.intake_wizard import QUESTIONS, TEXTS, VALUE_LABELS
from sinergi.domain.intake import Intake
from sinergi.domain.limits import STRICT

CASE_ID = re.compile(r"KALSEL-\d{4}-[0-9A-HJKMNP-TV-Z]{8}")

# A whole intake in Bahasa Indonesia: (the question's label, the answer typed; "" is Enter, taking the default).
SESSION_ID = [
    ("Provinsi", ""),
    ("Kabupaten/kota", "kab. banjar"),
    ("Tanggal diterima", "27-11-2026 08.00"),
    ("Instansi pengirim", "1"),
    ("Jalur penerimaan", "debarkation"),
    ("Nama lengkap", "Siti Contoh"),
    ("Jenis kelamin", "F"),
    ("Tanggal lahir", "14 Maret 2001"),
    ("Kewarganegaraan", ""),
    ("Nomor telepon", "+62 812 0000 0000"),
    ("Kabupaten/kota asal", "Banjar"),
    ("Negara tempat korban berada", "Malaysia"),
    ("Bentuk eksploitasi", "1"),
    ("Cara pengendalian", "debt_bondage, 16"),
    ("Yang merekrut korban", "2"),
    ("Pekerja Migran Indonesia", ""),
    ("Persetujuan layanan", "ya"),
    ("Persetujuan berbagi data", "ya"),
    ("Persetujuan proses hukum", "tidak"),
    ("Dicatat oleh petugas", "officer-17"),
    ("Ada eksploitasi seksual", ""),
    ("Perlu penanganan medis segera", "tidak"),
]
EXPECTED_ID = {
    "province": "KALSEL", "regency": "Kabupaten Banjar", "received_at": "2026-11-27T08:00:00+08:00",
    "source": {"agency": "bp3mi", "channel": "debarkation"},
    "person": {"full_name": "Siti Contoh", "sex": "F", "date_of_birth": "2001-03-14", "nationality": "ID",
               "phone": "+62 812 0000 0000", "home_regency": "Kabupaten Banjar"},
    "situation": {"location_country": "MY", "exploitation": ["forced_labour"],
                  "means_of_control": ["debt_bondage", "withholds_documents"], "recruiter_relation": "friend",
                  "is_pmi": True},
    "consent": {"services": True, "data_sharing": True, "legal": False, "recorded_by": "officer-17"},
    "flags": {"sexual_exploitation": False, "urgent_medical": False},
}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**base_env(home), "LANG": "id_ID.UTF-8", "NO_COLOR": "1"}
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return {**env, **extra}


class Session:
    """`sinergi case new ARGS` on a pseudo-terminal; `transcript` is what the operator saw, answers included."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str]) -> None:
        self.log = io.StringIO()
        self.child = pexpect.spawn(SINERGI, ["case", "new", *args], cwd=str(cwd), env=env, encoding="utf-8",
                                   timeout=30, dimensions=(60, 200))
        self.child.logfile_read = self.log

    @property
    def transcript(self) -> str:
        return self.log.getvalue().replace("\r\n", "\n")

    def see(self, text: str) -> None:
        try:
            self.child.expect_exact(text)
        except (pexpect.TIMEOUT, pexpect.EOF):
            raise AssertionError(f"{text!r} never shown; the session so far:\n{self.transcript}") from None

    def answer(self, label: str, text: str) -> None:
        """Wait for the question starting with `label` (at the start of a line), then type `text` and Enter."""
        try:
            self.child.expect(r"\n" + re.escape(label) + r"[^\r\n]*: ")
        except (pexpect.TIMEOUT, pexpect.EOF):
            raise AssertionError(f"question {label!r} never asked; the session so far:\n{self.transcript}") from None
        self.child.sendline(text)

    def answers(self, script: list[tuple[str, str]]) -> None:
        for label, text in script:
            self.answer(label, text)

    def end(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus


def _with(script: list[tuple[str, str]], **changed: str) -> list[tuple[str, str]]:
    return [(label, changed.get(label, text)) for label, text in script]


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, Path]:
    """(home, cwd) for one session: an empty folder to write in, and a HOME with no user configuration."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path / "home", tmp_path / "work"


def test_the_words_exist_in_both_languages() -> None:
    # The words are the CLI's: English in the tables, Bahasa Indonesia in the `cli` catalog (whose own test,
    # tests/unit/test_cli_catalogs.py, holds every translation complete and its placeholders kept).
    for question in QUESTIONS:
        assert question.path in TEXTS
        assert f"section.{question.section}" in TEXTS
        assert question.hint is None or question.hint in TEXTS
    # Every choice the model offers is explained, and no explanation is left of a gone one.
    labelled = {q.path: intake_wizard._choices(q.path) for q in QUESTIONS if q.kind in ("choice", "multi")}
    assert all(labelled.values())
    assert set(VALUE_LABELS) == set(labelled)
    for path, choices in labelled.items():
        assert set(VALUE_LABELS[path]) == set(choices), path
    indonesian = {m.id: m.string for m in cli_catalogs.read("id") if m.id}
    words = [*TEXTS.values(), *(label for labels in VALUE_LABELS.values() for label in labels.values())]
    assert all(indonesian.get(word) for word in words), [w for w in words if not indonesian.get(w)]


def test_choices_come_from_the_model() -> None:
    assert intake_wizard._choices("source.agency")[:2] == ("bp3mi", "uptd_ppa")
    assert intake_wizard._choices("person.sex") == ("F", "M", "X")
    assert "forced_labour" in intake_wizard._choices("situation.exploitation")


def test_a_whole_intake_in_bahasa_indonesia(work) -> None:
    home, cwd = work
    session = Session(cwd, "--no-open", "--output", "siti.json", env=_env(home))
    session.answers(SESSION_ID)
    session.see("Ringkasan")
    session.answer("Simpan data penerimaan?", "ya")
    assert session.end() == 0, session.transcript
    shown = session.transcript
    if os.environ.get("SINERGI_SHOW_TRANSCRIPT"):
        print(shown)
    for line in ("Provinsi", "Kalimantan Selatan (63)", "Kabupaten Banjar (63.03)", "27 November 2026 08.00 WITA",
                 "14 Maret 2001", "MY (Malaysia)", "debt_bondage — jeratan utang", "Siti Contoh",
                 "Data penerimaan ditulis ke siti.json"):
        assert line in shown, f"{line!r} not shown\n{shown}"
    assert not ANSI.search(shown), "colour with NO_COLOR set"
    written = cwd / "siti.json"
    assert written.stat().st_mode & 0o777 == 0o600
    intake = Intake.model_validate(json.loads(written.read_text()), context=STRICT)
    assert intake == Intake.model_validate(EXPECTED_ID, context=STRICT)
    assert intake.regency == "63.03" and intake.person.home_regency == "63.03"  # places kept as codes


def test_a_mistyped_place_shows_the_nearest_names_and_is_asked_again(work) -> None:
    home, cwd = work
    session = Session(cwd, "--no-open", "--output", "intake.json", env=_env(home))
    session.answer("Provinsi", "Kalimantan Selatn")
    session.see("Provinsi 'Kalimantan Selatn' tidak dikenal. Yang terdekat: Kalimantan Selatan (KALSEL)")
    session.answer("Provinsi", "kalsel")
    session.answer("Kabupaten/kota", "Banjr")
    session.see("Tidak ada kabupaten/kota 'Banjr' di Kalimantan Selatan. "
                "Yang terdekat: Kabupaten Banjar, Kota Banjarbaru, Kota Banjarmasin.")
    session.answer("Kabupaten/kota", "Banjar")
    session.answer("Tanggal diterima", "27-11-2026 08.00")
    session.answers(SESSION_ID[3:])
    session.answer("Simpan data penerimaan?", "ya")
    assert session.end() == 0, session.transcript
    written = json.loads((cwd / "intake.json").read_text())
    assert (written["province"], written["regency"]) == ("KALSEL", "63.03")


def test_an_invalid_date_is_asked_again_and_a_line_of_the_summary_changed(work) -> None:
    home, cwd = work
    session = Session(cwd, "--no-open", "--output", "intake.json", env=_env(home))
    session.answers(SESSION_ID[:2])
    session.answer("Tanggal diterima", "31-02-2026")
    session.see("Tanggal '31-02-2026' tidak dikenali")
    session.answer("Tanggal diterima", "27 November 2026 pukul 08.00")
    session.answers(SESSION_ID[3:7])
    session.answer("Tanggal lahir", "01-01-2030")  # after the day received: the intake's own rule refuses it
    session.see("person.date_of_birth is after received_at")
    session.answer("Tanggal lahir", "14-03-2001")
    session.answers(SESSION_ID[8:])
    session.answer("Simpan data penerimaan?", "7")  # line 7: Jenis kelamin
    session.answer("Jenis kelamin", "M")
    session.answer("Simpan data penerimaan?", "ya")
    assert session.end() == 0, session.transcript
    intake = Intake.model_validate(json.loads((cwd / "intake.json").read_text()), context=STRICT)
    assert intake.received_at.isoformat() == "2026-11-27T08:00:00+08:00"
    assert (intake.person.date_of_birth.isoformat(), intake.person.sex) == ("2001-03-14", "M")


def test_ctrl_c_cancels_and_writes_nothing(work) -> None:
    home, cwd = work
    session = Session(cwd, "--no-open", env=_env(home))
    session.answers(SESSION_ID)
    session.child.expect(r"Simpan data penerimaan\?[^\r\n]*: ")
    session.child.sendintr()  # at the very last question: still nothing written
    session.see("dibatalkan (Ctrl-C); tidak ada yang ditulis")
    assert session.end() == 1, session.transcript
    assert "Traceback" not in session.transcript
    assert list(cwd.iterdir()) == []


def test_english_with_lang_en(work) -> None:
    home, cwd = work
    session = Session(cwd, "--no-open", "--lang", "en", "--output", "intake.json", env=_env(home))
    session.answers([
        ("Province", "Jawa Timur"), ("Regency/city", "surabaya"), ("Date received", ""),
        ("Sending agency", "polri"), ("Channel", "police_referral"), ("Full name", ""), ("Sex", "2"),
        ("Date of birth", ""), ("Estimated age in years", "sixteen"),
    ])
    session.see("Not valid: Input should be a valid integer")
    session.answers([
        ("Estimated age in years", "16"), ("Nationality", "id"), ("Phone number", ""), ("Home regency/city", ""),
        ("Country the person is in", ""), ("Forms of exploitation", "sexual_exploitation"),
        ("Means of control", ""), ("Who recruited the person", ""), ("Indonesian migrant worker", ""),
        ("Consent to services", "yes"),
        ("Consent to data sharing", "no"), ("Consent to legal proceedings", "no"), ("Recorded by officer", "officer-3"),
    ])
    session.child.expect(r"\nSexual exploitation \(yes/no\) \[yes\]: ")  # the exploitation named says yes
    session.child.sendline("")
    session.answer("Needs urgent medical care", "yes")
    session.see("Summary")
    session.answer("Save the intake?", "yes")
    assert session.end() == 0, session.transcript
    assert "Intake written to intake.json" in session.transcript
    intake = Intake.model_validate(json.loads((cwd / "intake.json").read_text()), context=STRICT)
    assert (intake.province, intake.regency, intake.source.agency) == ("JATIM", "35.78", "polri")
    assert intake.person.full_name is None and intake.person.age_estimate == 16 and intake.is_child
    assert intake.flags.sexual_exploitation and intake.flags.urgent_medical and not intake.consent.data_sharing
    assert intake.received_at.utcoffset().total_seconds() == 7 * 3600  # Jawa Timur: WIB


def test_an_english_locale_asks_in_english(work) -> None:
    home, cwd = work
    session = Session(cwd, env=_env(home, LANG="en_US.UTF-8"))
    session.child.expect(r"\nProvince[^\r\n]*: ")
    session.child.sendintr()
    session.see("cancelled (Ctrl-C); nothing written")
    assert session.end() == 1


def test_without_a_terminal_it_points_to_case_open(work) -> None:
    home, cwd = work
    result = subprocess.run([SINERGI, "case", "new"], cwd=cwd, env=_env(home), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("kesalahan: `sinergi case new` bertanya lewat terminal"), result.stderr
    assert "sinergi case open BERKAS" in result.stderr
    assert list(cwd.iterdir()) == []


async def test_the_case_opens_as_case_open_opens_it(cli: Cli) -> None:
    """Without --no-open the intake is written and the case opened through `case open`'s own code."""
    env = {**cli.env, "LANG": "id_ID.UTF-8", "NO_COLOR": "1"}
    script = _with(SESSION_ID, **{"Tanggal diterima": "", "Dicatat oleh petugas": "officer-wizard"})

    def drive() -> tuple[int, str]:
        session = Session(cli.cwd, "--output", "intake.json", env=env)
        session.answers(script)
        session.answer("Simpan dan buka kasus?", "ya")
        session.child.expect(CASE_ID.pattern)
        case_id = session.child.after
        assert session.end() == 0, session.transcript
        assert "kasus dibuka; pantau dengan `sinergi case status" in session.transcript
        return 0, case_id

    _, case_id = await asyncio.to_thread(drive)  # the worker serves on this loop meanwhile
    status = await cli("case", "status", case_id, "--json")
    assert status.code == 0, str(status)
    body = status.json()
    assert (body["province"], body["regency"]) == ("KALSEL", "63.03")
    assert body["consent"] == {"services": True, "data_sharing": True, "legal": False}
