"""The command line's catalogs (`sinergi/commands/locale/<lang>/LC_MESSAGES/cli.po`): every message the CLI shows
is in both, none is left over, every Indonesian one is translated and reviewed (not fuzzy), placeholders are kept,
and the compiled `.mo` the CLI reads is the `.po`'s. Then what is shown with them: every command's help under
`--lang id` holds none of its English, and the case's own words are told in the reader's language.

When one of these fails: `python -m sinergi.cli_catalogs update`, translate what is empty or fuzzy in
`sinergi/commands/locale/id/LC_MESSAGES/cli.po` (docs/glossary.md has the words), `.venv/bin/pip install -e .`.
"""

from __future__ import annotations

import gettext
import re
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from sinergi import cli_catalogs
from sinergi.cli import cli
from sinergi.commands import case_words, console
from sinergi.commands.language import LANGUAGES, LOCALES, help_messages, one_line, speaking

UPDATE = "run `python -m sinergi.cli_catalogs update`, translate, then `.venv/bin/pip install -e .`"


@pytest.fixture(scope="module")
def extracted() -> set[str | tuple[str, ...]]:
    return {m.id for m in cli_catalogs.extract() if m.id}


@pytest.fixture(scope="module")
def catalogs():
    return {language: cli_catalogs.read(language) for language in LANGUAGES}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_holds_every_message_the_cli_shows_and_no_other(language, extracted, catalogs) -> None:
    in_catalog = {m.id for m in catalogs[language] if m.id}
    assert not extracted - in_catalog, f"{language}: missing {sorted(map(str, extracted - in_catalog))}; {UPDATE}"
    assert not in_catalog - extracted, f"{language}: obsolete {sorted(map(str, in_catalog - extracted))}; {UPDATE}"


def test_every_indonesian_message_is_translated_and_reviewed(catalogs) -> None:
    catalog = catalogs["id"]
    empty = [m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"untranslated: {empty}; {UPDATE}"
    assert not fuzzy, f"fuzzy (review the translation, then drop the flag): {fuzzy}"
    assert not catalog.fuzzy, "the catalog's header is marked fuzzy"


def test_english_is_the_codes_own(catalogs) -> None:
    # The English catalog lists the messages; the English is the message itself (no translation to go stale).
    assert not [m.id for m in catalogs["en"] if m.id and (m.fuzzy or any(m.string if isinstance(m.string, tuple)
                                                                         else [m.string]))]


def test_every_translation_keeps_its_placeholders(catalogs) -> None:
    # A translation may leave a value out (Indonesian has no plural), never name one the code does not give.
    wrong = []
    for message in catalogs["id"]:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        given = set().union(*map(_fields, ids))
        used = set().union(*map(_fields, strings))
        if not used <= given:
            wrong.append((message.id, sorted(used - given)))
    assert not wrong


def _typed(text: str) -> set[str]:
    """What `text` quotes in backquotes, its placeholders (FILE, TYPE: capitals) left out."""
    return {re.sub(r"\b[A-Z][A-Z_]+\b", "_", quoted) for quoted in re.findall(r"`[^`]*`", text)}


def test_a_translation_keeps_what_is_typed_as_it_is(catalogs) -> None:
    # Commands, options, event types and files in backquotes are typed as they are: a translation keeps them (its
    # placeholders, `FILE`, may be the reader's words: `BERKAS`).
    changed = [m.id for m in catalogs["id"]
               if isinstance(m.id, str) and m.string and not _typed(m.id) <= _typed(m.string)]
    assert not changed


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_installed_compiled_catalog_matches_its_source(language, catalogs) -> None:
    # The .mo is build output (hatch_build.py): an edited .po without a reinstall would show the old words.
    with open(Path(LOCALES) / language / "LC_MESSAGES" / "cli.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [m.id for m in catalogs[language] if isinstance(m.id, str) and m.id and m.string
             and compiled.gettext(m.id) != m.string]
    assert not stale, f"{language}: .mo older than .po; reinstall (`.venv/bin/pip install -e .`)"


def test_the_extraction_finds_what_the_cli_shows(extracted) -> None:
    # Without this, an extraction that found nothing would pass every test above.
    for message in ("Open, inspect and steer cases.", "Examples:", "Open a case:", "no case {case_id}", "Usage:",
                    "Show this message and exit.", "services start after an Art. 51 request", "shelter placement",
                    "the victim is in a shelter (stops S2)", "Only cases in this stage.", "Province", "May",
                    "the police report's number", "sinergi default (no statute)", "UU 21/2007 Art. 52(1)"):
        assert message in extracted, message
    assert ("opened {n} case", "opened {n} cases") in extracted


def _shipped_sources() -> set[str]:
    import tomllib

    from sinergi.domain.policy import WorkingDays

    found = {WorkingDays.model_fields["source"].default}
    for policy in cli_catalogs.POLICIES:
        loaded = tomllib.loads(policy.read_text("utf-8"))
        found |= {clock["source"] for clock in loaded["clocks"].values()}
        found |= {loaded["working_days"]["source"]} if "source" in loaded.get("working_days", {}) else set()
    return found


def test_every_event_fields_description_and_every_shipped_source_is_translated(catalogs) -> None:
    # What `sinergi events TYPE`, `case status`/`why` and `policy show` show in text: the models' descriptions
    # (English in the API schema and `--json`) and the shipped policies' sources, each translated in `id`.
    from sinergi.commands.event_catalog import fields_of
    from sinergi.domain.events import EVENT_CLASSES

    descriptions = {f.description for t in EVENT_CLASSES for f in fields_of(t) if f.description}
    sources = _shipped_sources()
    assert len(descriptions) > 20 and "sinergi default (no statute)" in sources
    translations = {m.id: m.string for m in catalogs["id"] if isinstance(m.id, str) and not m.fuzzy}
    missing = sorted(message for message in descriptions | sources if not translations.get(message))
    assert not missing, f"untranslated: {missing}; {UPDATE}"
    # sinergi's own words are translated; a law's name or citation stays as the policy writes it.
    assert translations["sinergi default (no statute)"] == "bawaan sinergi (tanpa dasar undang-undang)"
    assert translations["local service standard (UPTD PPA)"] == "standar layanan setempat (UPTD PPA)"
    citation = re.compile(r"\b(?:UU|PERMA|Perpres|PP) \d+/\d{4}(?: Art\. \d+(?:\(\d+\))?)?")
    changed = [s for s in sources for cited in citation.findall(s) if cited not in translations[s]]
    assert not changed, changed


# --- what is shown with them --------------------------------------------------------------------------------


def _help(args: list[str], language: str) -> str:
    done = CliRunner().invoke(cli, ["--lang", language, *args, "--help"], prog_name="sinergi",
                              env={"SINERGI_LANG": "", "NO_COLOR": "1", "COLUMNS": "110"})
    assert done.exit_code == 0, done.output
    return " ".join(done.output.split())


def test_every_commands_help_under_lang_id_holds_none_of_its_english(catalogs) -> None:
    translations = {m.id: m.string for m in catalogs["id"] if isinstance(m.id, str)}
    left = []
    commands = list(cli_catalogs.commands())
    assert len(commands) > 30  # the whole tree, every lazy command loaded
    for path, command in commands:
        args = path.split()[1:]
        english, indonesian = _help(args, "en"), _help(args, "id")
        texts = [command.help or "", *(p.help for p in command.params if getattr(p, "help", None))]
        messages = [m for text in texts for m in (help_messages(text) if text is command.help else [one_line(text)])]
        for message in messages:
            assert message in english, (path, message)  # the comparison can see the English where it is
            if translations.get(message) != message and message in indonesian:
                left.append((path, message))
        for word in ("Usage:", "Options:", "Show this message and exit."):
            assert word in english and word not in indonesian, (path, word)
        assert "Penggunaan:" in indonesian and "Opsi:" in indonesian, path
    assert not left, left


def test_the_root_listing_and_completion_speak_the_language_asked_for() -> None:
    listing = _help([], "id")
    assert "case Membuka, memeriksa, dan mengarahkan kasus." in listing
    assert "Contoh: Menjalankan semuanya di komputer ini: sinergi dev" in listing
    assert "case Open, inspect and steer cases." in _help([], "en")


@pytest.mark.parametrize(("message", "indonesian"), [
    ("no case KALSEL-2026-NOSUCH00", "tidak ada kasus KALSEL-2026-NOSUCH00"),
    ("case KALSEL-2026-AAAAAAAA already exists", "kasus KALSEL-2026-AAAAAAAA sudah ada"),
    ("reintegration.completed refused: the case is in identification, not reintegration",
     "reintegration.completed ditolak: kasus berada pada tahap identifikasi, bukan reintegrasi"),
    ("referral.accepted refused: referral R1 is sent, expected acknowledged or accepted",
     "referral.accepted ditolak: rujukan R1 berstatus terkirim, seharusnya dikonfirmasi atau diterima"),
    ("protection.shelter_admitted refused: something the CLI does not know",
     "protection.shelter_admitted ditolak: something the CLI does not know"),
    ("case.closed refused: it was sealed at 2026-12-01T08:00:00+00:00, more than 10 minutes ago: a copy, or held "
     "too long; if it was not applied, send it again",
     "case.closed ditolak: peristiwa ini disegel pada 2026-12-01T08:00:00+00:00, lebih dari 10 menit yang lalu: "
     "salinan, atau tertahan terlalu lama; jika belum diterapkan, kirim sekali lagi"),
    ("no regency 'Banjr' in Kalimantan Selatan; nearest: Kabupaten Banjar, Kota Banjarbaru",
     "tidak ada kabupaten/kota 'Banjr' di Kalimantan Selatan; yang terdekat: Kabupaten Banjar, Kota Banjarbaru"),
    ("no regency 'Kota Surabaya' in Jawa Barat (elsewhere: Kota Surabaya (35.78, Jawa Timur)); nearest: Kota Bogor",
     "tidak ada kabupaten/kota 'Kota Surabaya' di Jawa Barat (di tempat lain: Kota Surabaya (35.78, Jawa Timur)); "
     "yang terdekat: Kota Bogor"),
    ("a message of no known form", "a message of no known form"),
])
def test_the_cases_own_words_are_told_in_the_readers_language(message, indonesian) -> None:
    with speaking("id"):
        assert case_words.translated(message) == indonesian
    with speaking("en"):
        assert case_words.translated(message) == message


def _skeleton(form: str) -> re.Pattern[str]:
    """A form as the code writes it: its literal words, any expression where a `{field}` is."""
    parts = [re.escape(literal) + (r"\{[^}]+\}" if field else "")
             for literal, field, _, _ in string.Formatter().parse(form)]
    return re.compile("".join(parts))


def test_every_form_of_the_cases_words_is_still_written_so_in_the_code() -> None:
    # A form no message has any more would leave that message in English: each must still be in the code that
    # makes it (an f-string: `{...}` where the form has a field).
    from sinergi.commands.timeline_words import TIMELINE_FORMS

    root = Path(cli_catalogs.ROOT)
    code = "\n".join(p.read_text("utf-8") for p in (root / "cases.py", root / "commands" / "session.py",
                                                    *sorted((root / "domain").rglob("*.py"))))
    code = re.sub(r'"\s*\n\s*f?"', "", code)  # implicit concatenation: one string, as Python reads it
    gone = [form for form in (*case_words.FORMS, *TIMELINE_FORMS) if not _skeleton(form).search(code)]
    assert not gone


def test_pydantics_words_are_its_own_templates() -> None:
    # `console.PROBLEMS` quotes pydantic's English to find its translation: a pydantic that words an error type
    # otherwise would leave it in English. Each must be pydantic's template for that type.
    from pydantic_core._pydantic_core import list_all_errors

    templates = {e["type"]: e["message_template_python"] for e in list_all_errors()}
    assert {kind: templates[kind] for kind in console.PROBLEMS} == console.PROBLEMS


def test_no_message_hides_inside_an_f_string_where_extraction_cannot_see_it():
    """Python 3.11 reads an f-string as one token: a `_("...")` inside one is never extracted, so it would stay
    English in every language (as `case status` once showed `NO` in Bahasa Indonesia)."""
    import ast

    hidden = []
    for path in cli_catalogs.SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
                            and inner.func.id in ("_", "ngettext", "pgettext", "N_")
                            and any(isinstance(a, ast.Constant) for a in inner.args)):
                        hidden.append(f"{path.name}:{inner.lineno}")
    assert not hidden, hidden


# Calls that show their first argument (and `hint=`) to a person: a literal with words there is English only.
_SHOWN = {"UserError", "echo", "secho", "confirm", "prompt", "ClickException", "BadParameter", "UsageError"}


def _has_words(node) -> bool:
    import ast

    words = re.compile(r"[A-Za-z]{3,}")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(words.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and words.search(v.value) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _has_words(node.left) or _has_words(node.right)
    if isinstance(node, ast.IfExp):
        return _has_words(node.body) or _has_words(node.orelse)
    return False


def test_no_message_a_person_reads_is_written_past_the_catalog():
    """A literal with words handed straight to `click.echo`, `UserError` (or its `hint=`), `confirm`... is read in
    English under `--lang id` too: `sinergi admin` and `sinergi dev` once spoke English only."""
    import ast

    english = []
    for path in cli_catalogs.SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in _SHOWN:
                shown = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "hint")]
                english += [f"{path.name}:{node.lineno}: {ast.unparse(a)[:80]}" for a in shown if _has_words(a)]
    assert not english, english


def test_the_guard_sees_a_message_written_past_the_catalog(tmp_path, monkeypatch):
    source = tmp_path / "bad.py"
    source.write_text('import click\nclick.echo(f"replayed {n} histories")\n'
                      'raise UserError(_("fine"), 2, hint="see the README")\nclick.echo(f"{a}  {b}")\n')
    monkeypatch.setattr(cli_catalogs, "SOURCES", (source,))
    with pytest.raises(AssertionError) as caught:
        test_no_message_a_person_reads_is_written_past_the_catalog()
    assert "bad.py:2" in str(caught.value) and "bad.py:3" in str(caught.value) and "bad.py:4" not in str(caught.value)


def test_no_module_speaking_through_the_catalog_rebinds_its_underscore():
    """`host, _ = ...` in a module that translates with `_` makes the next `_("...")` in that function call a
    string: `sinergi dev` once died so on finding a server an earlier run left behind."""
    import ast

    rebound = []
    for path in cli_catalogs.SOURCES:
        tree = ast.parse(path.read_text("utf-8"))
        if not any(isinstance(n, ast.ImportFrom) and any(a.name == "_" for a in n.names) for n in ast.walk(tree)):
            continue
        rebound += [f"{path.name}:{n.lineno}" for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)]
    assert not rebound, rebound


def test_a_place_an_intake_names_wrongly_is_refused_in_the_readers_language(tmp_path) -> None:
    """An intake file with a mistyped regency, under `--lang id`: the refusal and its nearest names in Bahasa
    Indonesia, without pydantic's English prefix; under `--lang en` as the places module says it."""
    import json

    from sinergi.testing.cases import intake

    raw = json.loads(intake().model_dump_json())
    raw["regency"] = "Banjr"
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(raw))
    said = {}
    for language in ("id", "en"):
        result = CliRunner().invoke(cli, ["--lang", language, "case", "open", str(path), "--json"],
                                    env={"SINERGI_CONFIG": str(tmp_path / "none.toml")})
        said[language] = json.loads(result.output)
        assert result.exit_code == 2, result.output
    [indonesian] = [d["message"] for d in said["id"]["details"] if d["field"] == "regency"]
    [english] = [d["message"] for d in said["en"]["details"] if d["field"] == "regency"]
    assert indonesian.startswith("tidak ada kabupaten/kota 'Banjr' di Kalimantan Selatan; yang terdekat: ")
    assert english.startswith("no regency 'Banjr' in Kalimantan Selatan; nearest: ")
    assert "Value error" not in indonesian + english


@pytest.mark.parametrize(("entry", "indonesian", "english"), [
    ("S3 sinergi default (no statute): agency acknowledges a referral (R001) started, due 2026-12-08T00:50:00+00:00",
     "S3 bawaan sinergi (tanpa dasar undang-undang): instansi mengonfirmasi penerimaan rujukan (R001) dimulai, "
     "jatuh tempo 2026-12-08T00:50:00+00:00", None),
    ("T1:R002 paused: contact_lost", "T1:R002 dijeda: kontak dengan korban terputus",
     "T1:R002 paused: contact with the victim lost"),  # a code, in words in both
    ("S4:R003 cancelled: case closed", "S4:R003 dibatalkan: kasus ditutup", None),
    ("consent withdrawn: data_sharing for polda_kalsel", "persetujuan dicabut: berbagi data untuk polda_kalsel",
     "consent withdrawn: data sharing for polda_kalsel"),
    ("stage: protection", "tahap: pelindungan", None),
    ("T-1-R003: police report and investigation → polri (mandated: UU 12/2022 Art. 41) held: no consent for "
     "sharing", "T-1-R003: laporan polisi dan penyidikan → polri (diwajibkan: UU 12/2022 Art. 41) ditahan: belum "
     "ada persetujuan berbagi data", None),
    ("identification.screening_completed outcome=presumed_victim by operator:siti",
     "identification.screening_completed outcome=presumed_victim by operator:siti", None),  # an event: as written
])
def test_a_timeline_entry_is_told_in_the_readers_language(entry, indonesian, english) -> None:
    from sinergi.commands.timeline_words import entry_words

    with speaking("id"):
        assert entry_words(entry) == indonesian
    with speaking("en"):
        assert entry_words(entry) == (english or entry)


def test_a_manual_tasks_reason_is_told_in_the_readers_language_and_what_an_office_typed_stays() -> None:
    from sinergi.commands.timeline_words import reason_words

    reason = ("shelter placement: declined by dinsos_kalsel: penuh minggu ini; no other agency is available: "
              "arrange it by phone or letter")
    with speaking("id"):
        assert reason_words(reason) == ("penempatan di rumah aman: ditolak oleh dinsos_kalsel: penuh minggu ini; "
                                        "tidak ada instansi lain yang tersedia: atur melalui telepon atau surat")
        assert reason_words("call the family first") == "call the family first"  # not the case's words
    with speaking("en"):
        assert reason_words(reason) == reason
