"""`sinergi case new`: the guided intake (issue 23, Build 7) — no hand-written JSON needed.

It asks for an intake field by field in the operator's language, checks each answer as soon as it is given
against the model's own field (`Intake` and its sections, their validators included: one source of the rules),
shows a summary to confirm, writes the intake file (mode 600) and opens the case through `case open`'s own
code path (the same command, invoked), unless `--no-open`.

- The choices come from the model: the `enum`s of its JSON schema (its Literal fields). Where the model keeps
  free ids (`situation.exploitation`, `situation.means_of_control`) they come from the vocabulary the reports
  map those ids with (docs/reports.md, `sinergi.reports._ctdc`); once the model names them, its schema wins.
- Places are matched forgivingly (`sinergi.domain.places`): an unknown one is refused with the nearest names.
- The words are the CLI's (`sinergi.commands.language`): English in the tables below (`TEXTS`, `VALUE_LABELS`),
  in the `cli` gettext catalog for the other language, chosen as every command chooses it (`--lang`,
  `SINERGI_LANG`, `[ui] language`, the locale).
- The person's name is personal data: the summary shows it on the terminal only, and nothing here logs.

Questions, the summary and errors go to stderr; stdout gets the result only (the case id, as `case open`
prints it, or the file written with `--no-open`). The module is cheap to import (the CLI imports it at start):
pydantic, the places and the intake model are imported when the command runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import click

from sinergi.commands.console import BAD_INPUT, REFUSED, UserError, print_json
from sinergi.commands.kit import POLICY_OPTION, App, common
from sinergi.commands.language import LANGUAGES, MONTHS, N_, Command, _, local_datetime

SECTIONS = ("source", "person", "situation", "consent", "flags")
DEFAULT_PROVINCE = "KALSEL"

# --- the words -------------------------------------------------------------------------------------------------
# Keys of a field are its dotted path in the intake; the rest name a message. `{...}` are filled in. English here,
# the other language in the catalog (`_`).

TEXTS: dict[str, str] = {
    "intro": N_("New case: the intake, field by field. Press Ctrl-C at any time to cancel; "
            "nothing is saved before you confirm the summary."),
    "section.place": N_("Place and time"),
    "section.source": N_("Where the case comes from"),
    "section.person": N_("The person"),
    "section.situation": N_("Situation"),
    "section.consent": N_("Consent"),
    "section.flags": N_("Flags"),
    "province": N_("Province"),
    "regency": N_("Regency/city"),
    "received_at": N_("Date received"),
    "source.agency": N_("Sending agency"),
    "source.channel": N_("Channel"),
    "person.full_name": N_("Full name"),
    "person.sex": N_("Sex"),
    "person.date_of_birth": N_("Date of birth"),
    "person.age_estimate": N_("Estimated age in years"),
    "person.nationality": N_("Nationality"),
    "person.phone": N_("Phone number"),
    "person.home_regency": N_("Home regency/city"),
    "situation.location_country": N_("Country the person is in"),
    "situation.exploitation": N_("Forms of exploitation"),
    "situation.means_of_control": N_("Means of control"),
    "situation.recruiter_relation": N_("Who recruited the person"),
    "situation.is_pmi": N_("Indonesian migrant worker"),
    "consent.services": N_("Consent to services"),
    "consent.data_sharing": N_("Consent to data sharing"),
    "consent.legal": N_("Consent to legal proceedings"),
    "consent.recorded_by": N_("Recorded by officer"),
    "flags.sexual_exploitation": N_("Sexual exploitation"),
    "flags.urgent_medical": N_("Needs urgent medical care"),
    "hint.optional": N_("leave empty if none"),
    "hint.choice": N_("number or code"),
    "hint.multi": N_("numbers or codes, separated by commas; leave empty if none"),
    "hint.date": N_("e.g. 14-03-2001 or 14 March 2001"),
    "hint.datetime": N_("e.g. 27-11-2026 08:00 or 27 November 2026 08:00"),
    "hint.country": N_("two-letter code or the country's name, e.g. MY or Malaysia"),
    "hint.place": N_("name or Kemendagri code"),
    "hint.age": N_("only if the date of birth is not known"),
    "yes": N_("yes"),
    "no": N_("no"),
    "yes_no": N_("yes/no"),
    "now": N_("now"),
    "none": N_("-"),
    "required": N_("Required."),
    "bad_yes_no": N_("Answer yes or no."),
    "bad_choice": N_("{answer!r} is not a choice: type its number (1-{count}) or its code."),
    "bad_date": N_("Date {answer!r} not understood: write e.g. 14-03-2001 or 14 March 2001."),
    "bad_datetime": N_("Date {answer!r} not understood: write e.g. 27-11-2026 08:00, 27 November 2026 "
            "08:00, or now."),
    "date_only": N_("The date alone, without a time."),
    "bad_country": N_("Country {answer!r} not known: write its two-letter code (MY, SA, HK) or its name."),
    "unknown_province": N_("No province {answer!r}."),
    "unknown_regency": N_("No regency or city {answer!r} in {province}."),
    "unknown_regency_anywhere": N_("No regency or city {answer!r}."),
    "elsewhere": N_("{place} is in {province}."),
    "nearest": N_("Nearest: {names}."),
    "ambiguous": N_("{answer!r} may be: {names}. Write its full name or its Kemendagri code."),
    "invalid": N_("Not valid: {message}"),
    "summary": N_("Summary"),
    "confirm_open": N_("Save and open the case? (yes / no / a line's number to change it)"),
    "confirm_save": N_("Save the intake? (yes / no / a line's number to change it)"),
    "bad_confirm": N_("Answer yes, no, or a line number 1-{count}."),
    "not_valid_yet": N_("The intake is not valid yet:"),
    "cancelled": N_("cancelled; nothing written"),
    "aborted": N_("cancelled (Ctrl-C); nothing written"),
    "not_a_terminal": N_("`sinergi case new` asks its questions on a terminal, and its input is not one"),
    "not_a_terminal_hint": N_("without a terminal (a script, a pipe): write the intake as a JSON or YAML file "
            "(examples/ has some), then `sinergi case open FILE`"),
    "exists": N_("{path} already exists; not overwritten"),
    "exists_hint": N_("choose another name with --output"),
    "no_folder": N_("folder {folder} does not exist"),
    "written": N_("Intake written to {path} (readable by you only)."),
    "open_later": N_("The intake stays saved in {path}; open it later with `sinergi case open {path}`."),
}

# What each choice means, by field and value. Values without a label show as their code.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "source.agency": {
        "bp3mi": N_("BP3MI / KP2MI"),
        "uptd_ppa": N_("UPTD PPA"),
        "polri": N_("Police (Unit PPA)"),
        "lpsk": N_("LPSK"),
        "dinsos": N_("Social affairs (Dinas Sosial)"),
        "dinkes": N_("Health (Dinas Kesehatan)"),
        "kbri": N_("Indonesian mission abroad (KBRI/KJRI)"),
        "imigrasi": N_("Immigration"),
        "gugus_tugas": N_("Anti-trafficking task force (Gugus Tugas PP-TPPO)"),
        "ngo": N_("NGO / IOM / legal aid"),
    },
    "source.channel": {
        "debarkation": N_("debarkation (arrival at a port or airport)"),
        "complaint": N_("complaint"),
        "outreach": N_("outreach"),
        "border_interception": N_("border interception"),
        "mission_report": N_("report of a mission abroad"),
        "deportation": N_("deportation"),
        "hotline": N_("hotline"),
        "police_referral": N_("police referral"),
        "other": N_("other"),
    },
    "person.sex": {
        "F": N_("female"),
        "M": N_("male"),
        "X": N_("other"),
    },
    "situation.exploitation": {
        "forced_labour": N_("forced labour"),
        "sexual_exploitation": N_("sexual exploitation"),
        "forced_marriage": N_("forced marriage"),
        "forced_military": N_("forced military service"),
        "organ_removal": N_("organ removal"),
        "slavery_and_practices": N_("slavery and similar practices"),
        "other": N_("other"),
    },
    "situation.means_of_control": {
        "debt_bondage": N_("debt bondage"),
        "takes_earnings": N_("takes earnings"),
        "restricts_financial_access": N_("restricts access to money"),
        "threats": N_("threats"),
        "psychological_abuse": N_("psychological abuse"),
        "physical_abuse": N_("physical abuse"),
        "sexual_abuse": N_("sexual abuse"),
        "false_promises": N_("false promises"),
        "psychoactive_substances": N_("psychoactive substances"),
        "restricts_movement": N_("restricts movement"),
        "restricts_medical_care": N_("restricts medical care"),
        "excessive_working_hours": N_("excessive working hours"),
        "uses_children": N_("uses children"),
        "threat_of_law_enforcement": N_("threat of law enforcement"),
        "withholds_necessities": N_("withholds necessities"),
        "withholds_documents": N_("withholds documents"),
        "other": N_("other"),
    },
    "situation.recruiter_relation": {
        "intimate_partner": N_("a partner or spouse"),
        "friend": N_("a friend or acquaintance"),
        "family": N_("a family member"),
        "other": N_("someone else (an agent, a sponsor, a stranger)"),
        "unknown": N_("not known"),
    },
}

# Yes and no as operators type them, in either language.
_YES = {"ya", "y", "iya", "yes"}
_NO = {"tidak", "t", "tdk", "no", "n", "nggak", "enggak"}
_NOW = {"sekarang", "now"}
# Month spellings Babel's CLDR names leave out (old and common Indonesian forms).
_MONTH_SPELLINGS = {"pebruari": 2, "peb": 2, "agt": 8, "ags": 8, "nopember": 11, "nop": 11, "sept": 9}

# Where the model keeps free ids, the vocabulary the reports map them with (docs/reports.md). Reading it imports
# the reports package (SQLAlchemy: about 0.7 s, once, at the first of these questions). Not warmed in a thread:
# a signal arriving while another thread runs can be left unhandled by CPython 3.11 until the next bytecode of
# the main thread, which sits in its prompt, so Ctrl-C went unanswered.
_VOCABULARIES = {"situation.exploitation": "EXPLOITATION", "situation.means_of_control": "MEANS_OF_CONTROL"}


# --- the questions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One field to ask: its dotted path in the intake and how an answer is read.

    kind: text, choice, multi, yesno, date, datetime, country, province, regency, home (a person's regency).
    `explicit`: no default even where the model has one (consent is asked, never assumed)."""

    path: str
    kind: str
    section: str
    when: Callable[[dict[str, Any]], bool] | None = None
    explicit: bool = False
    hint: str | None = None


QUESTIONS: tuple[Question, ...] = (
    Question("province", "province", "place", hint="hint.place"),
    Question("regency", "regency", "place", hint="hint.place"),
    Question("received_at", "datetime", "place", hint="hint.datetime"),
    Question("source.agency", "choice", "source"),
    Question("source.channel", "choice", "source"),
    Question("person.full_name", "text", "person"),
    Question("person.sex", "choice", "person"),
    Question("person.date_of_birth", "date", "person", hint="hint.date"),
    Question("person.age_estimate", "text", "person", hint="hint.age",
             when=lambda draft: draft.get("person.date_of_birth") is None),
    Question("person.nationality", "country", "person", hint="hint.country"),
    Question("person.phone", "text", "person"),
    Question("person.home_regency", "home", "person", hint="hint.place"),
    Question("situation.location_country", "country", "situation", hint="hint.country"),
    Question("situation.exploitation", "multi", "situation"),
    Question("situation.means_of_control", "multi", "situation"),
    Question("situation.recruiter_relation", "choice", "situation"),
    Question("situation.is_pmi", "yesno", "situation"),
    Question("consent.services", "yesno", "consent", explicit=True),
    Question("consent.data_sharing", "yesno", "consent", explicit=True),
    Question("consent.legal", "yesno", "consent", explicit=True),
    Question("consent.recorded_by", "text", "consent"),
    Question("flags.sexual_exploitation", "yesno", "flags"),
    Question("flags.urgent_medical", "yesno", "flags"),
)


class Refused(ValueError):
    """An answer that does not fit its field: the message says why, and the question is asked again."""


# --- the command ----------------------------------------------------------------------------------------------


@click.command("new", cls=Command)
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the intake here (default: intake-<timestamp>.json in the current folder).")
@click.option("--no-open", is_flag=True, help="Write the intake file only; open it later with `case open FILE`.")
@POLICY_OPTION
@common(output=False)
def new(app: App, output_file: Path | None, no_open: bool, policy: str | None = None) -> None:
    """Open a case by answering questions: the intake, field by field, with a summary to confirm.

    Each answer is checked as it is given (a place not known shows the nearest names); nothing is written
    before the summary is confirmed, and Ctrl-C cancels. The intake is written as JSON (readable by you only),
    then opened as `sinergi case open FILE` would. Needs a terminal: a script writes the file and uses
    `case open`.

    \b
    Examples:
      sinergi case new
      sinergi case new --lang en --output intake-siti.json --no-open
    """
    say = Speaker(app.language, app.color)
    if not sys.stdin.isatty():
        raise UserError(say.text("not_a_terminal"), BAD_INPUT, hint=say.text("not_a_terminal_hint"),
                        code="not_a_terminal")
    if output_file is not None:
        _check_target(output_file, say)
    province = _default_province(app)
    try:
        intake = Wizard(say, province, opening=not no_open).run()
        path = write_intake(intake, output_file or Path(f"intake-{datetime.now():%Y%m%d-%H%M%S}.json"), say)
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        raise UserError(say.text("aborted"), REFUSED, code="aborted") from None
    say.echo(say.text("written", path=path))
    if no_open:
        if app.as_json:
            print_json({"file": str(path)})
        else:
            click.echo(str(path))
        return
    # `case open` itself, as registered beside this command: the same code opens a written file (and no import
    # of `sinergi.commands.case` here, which registers this command: the CLI's import graph stays without a loop).
    ctx = click.get_current_context()
    open_case = ctx.parent.command.get_command(ctx.parent, "open") if ctx.parent is not None else None
    if not isinstance(open_case, click.Command):
        raise RuntimeError("`case new` is registered outside the `case` group: it opens with `case open`")
    try:
        ctx.invoke(
            open_case, file=path, case_id=None, bulk=False, policy=policy, config_path=app.config_path,
            profile=app.profile,
            as_json=app.as_json, output=None, color={True: "always", False: "never"}.get(app.color), lang=app.lang)
    except click.ClickException:
        say.echo(say.text("open_later", path=path))
        raise


class Speaker:
    """The words of the run's language (`language`: dates and country names follow it too), and the terminal
    they go to (stderr: stdout is for the result)."""

    def __init__(self, language: str, color: bool | None) -> None:
        self.language = language
        self.color = color

    def text(self, key: str, **values: Any) -> str:
        return _(TEXTS[key]).format(**values) if values else _(TEXTS[key])

    def label(self, path: str, value: str) -> str:
        label = VALUE_LABELS.get(path, {}).get(value)
        return _(label) if label else value

    def echo(self, message: str = "", **style: Any) -> None:
        click.echo(click.style(message, **style) if style else message, err=True, color=self.color)

    def ask(self, prompt: str) -> str:
        # click.prompt turns Ctrl-C and end-of-input into Abort, after a new line.
        shown = prompt if self.color is False else click.style(prompt, bold=True)
        return click.prompt(shown, default="", show_default=False, err=True, prompt_suffix=": ").strip()


class Wizard:
    """The questions, the summary and its confirmation; `run` returns the validated intake."""

    def __init__(self, say: Speaker, province: str, *, opening: bool) -> None:
        self.say = say
        self.default_province = province
        self.opening = opening
        self.draft: dict[str, Any] = {}
        self.asked: set[str] = set()

    def run(self) -> Any:
        from pydantic import ValidationError

        from sinergi.domain.intake import Intake
        from sinergi.domain.limits import STRICT

        self.say.echo(self.say.text("intro"), dim=True)
        self._ask_missing()
        while True:
            try:
                intake = Intake.model_validate(_nested(self.draft), context=STRICT)
            except ValidationError as exc:  # a rule across fields the answers one by one did not meet
                lines = [(".".join(str(p) for p in err["loc"]), _message(err)) for err in exc.errors(include_url=False)]
                again = [path for path, _line in lines if path in self.asked]
                if not again:  # nothing the questions can change: a bug, shown rather than asked forever
                    listed = "; ".join(f"{p or '-'}: {m}" for p, m in lines)
                    raise UserError(f"{self.say.text('not_valid_yet')} {listed}", BAD_INPUT,
                                    code="invalid_intake") from exc
                self.say.echo(self.say.text("not_valid_yet"), fg="red")
                for path, message in lines:
                    self.say.echo(f"  {path or '-'}: {message}", fg="red")
                self.asked.difference_update(again)
                self._ask_missing()
                continue
            choice = self._confirm(intake)
            if choice is None:
                return intake
            self._ask(choice, editing=True)
            self._ask_missing()

    # -- asking

    def _ask_missing(self) -> None:
        section = None
        for question in QUESTIONS:
            if question.when is not None and not question.when(self.draft):
                self.draft.pop(question.path, None)
                self.asked.discard(question.path)
                continue
            if question.path in self.asked:
                continue
            if question.section != section:
                section = question.section
                self.say.echo()
                self.say.echo(self.say.text(f"section.{section}"), fg="cyan", bold=True)
            self._ask(question)

    def _ask(self, question: Question, *, editing: bool = False) -> None:
        say = self.say
        choices = _choices(question.path) if question.kind in ("choice", "multi") else ()
        if choices:
            for number, value in enumerate(choices, 1):
                say.echo(f"  {number:>2}. {value:<28} {say.label(question.path, value)}")
        default = self._default_answer(question, editing)
        hints = [say.text(question.hint)] if question.hint else []
        if question.kind == "choice":
            hints.append(say.text("hint.choice"))
        elif question.kind == "multi":
            hints.append(say.text("hint.multi"))
        elif question.kind == "yesno":
            hints.append(say.text("yes_no"))
        if default is None and _optional(question) and question.kind != "multi":
            hints.append(say.text("hint.optional"))
        prompt = say.text(question.path) + (f" ({'; '.join(hints)})" if hints else "")
        if default is not None and default != "":
            prompt += f" [{default}]"
        while True:
            answer = say.ask(prompt)
            if not answer and default is not None:
                answer = default
            try:
                value = self._read(question, answer, choices)
            except Refused as exc:
                say.echo(f"  ! {exc}", fg="red")
                continue
            self.draft[question.path] = value
            self.asked.add(question.path)
            if question.path == "province":  # another province: its regency is asked again
                self.asked.discard("regency")
                self.draft.pop("regency", None)
            return

    def _read(self, question: Question, answer: str, choices: tuple[str, ...]) -> Any:
        """The model's value for `answer`, or Refused saying why."""
        say, kind = self.say, question.kind
        if not answer:
            if kind == "multi":
                return self._checked(question.path, [])
            if not _optional(question) or kind == "yesno":
                raise Refused(say.text("required"))
            return self._checked(question.path, None)
        if kind == "yesno":
            word = answer.lower()
            if word not in _YES | _NO:
                raise Refused(say.text("bad_yes_no"))
            return self._checked(question.path, word in _YES)
        if kind == "choice":
            return self._checked(question.path, _pick(answer, choices, say))
        if kind == "multi":
            words = [w for w in answer.replace(";", ",").replace(",", " ").split() if w]
            picked = list(dict.fromkeys(_pick(w, choices, say) for w in words))
            return self._checked(question.path, picked)
        if kind == "date":
            return self._checked(question.path, _read_date(answer, say))
        if kind == "datetime":
            return self._checked(question.path, _read_datetime(answer, self.draft.get("province"), say))
        if kind == "country":
            return self._checked(question.path, _read_country(answer, say))
        if kind in ("province", "regency", "home"):
            return self._checked(question.path, self._place(kind, answer))
        return self._checked(question.path, answer)

    def _checked(self, path: str, value: Any) -> Any:
        """`value` validated as the intake's field at `path` (its validators included) and, for the person,
        with the rules across the intake's sections (a birth date after the day received); the model's value."""
        from pydantic import ValidationError

        from sinergi.domain.intake import Intake
        from sinergi.domain.limits import STRICT

        section, _sep, name = path.rpartition(".")
        model = Intake.model_fields[section].annotation if section else Intake
        base = _partial_section(model, self.draft, section) if section else _partial_intake(self.draft)
        try:
            checked = model.__pydantic_validator__.validate_assignment(base, name, value, context=STRICT)
            if section == "person":
                Intake.__pydantic_validator__.validate_assignment(_partial_intake(self.draft), section, checked,
                                                                 context=STRICT)
        except ValidationError as exc:
            raise Refused(self.say.text("invalid", message=_message(exc.errors(include_url=False)[0]))) from None
        return getattr(checked, name)

    def _place(self, kind: str, answer: str) -> str:
        """The province's short code or the regency's Kemendagri code `answer` names; Refused with the nearest."""
        from sinergi.domain import places

        say = self.say
        try:
            if kind == "province":
                return places.province(answer).short
            where = places.province(self.draft["province"])
            if kind == "regency":
                try:
                    return places.regency(answer, where).code
                except places.UnknownPlace as exc:
                    message = say.text("unknown_regency", answer=answer, province=where.name)
                    found = places.known_regency(answer)
                    if found is not None and found.province_code != where.code:
                        message += " " + say.text("elsewhere", place=found.label, province=found.province.name)
                    raise Refused(f"{message} {say.text('nearest', names=_names(exc.nearest))}") from None
            try:  # a home: in the case's province first, then anywhere in Indonesia
                return places.regency(answer, where).code
            except places.PlaceError:
                return places.regency_anywhere(answer).code
        except places.AmbiguousPlace as exc:
            raise Refused(say.text("ambiguous", answer=answer, names=_names(exc.candidates, national=True))) \
                from None
        except places.UnknownPlace as exc:
            key = "unknown_province" if kind == "province" else "unknown_regency_anywhere"
            raise Refused(f"{say.text(key, answer=answer)} "
                          f"{say.text('nearest', names=_names(exc.nearest, national=kind == 'home'))}") from None

    def _default_answer(self, question: Question, editing: bool) -> str | None:
        """What Enter answers, as the operator would type it; None when Enter answers nothing."""
        path = question.path
        if editing and path in self.draft:
            return _as_answer(question, self.draft[path], self.say)
        if path == "province":
            return self.default_province
        if path == "received_at":
            return self.say.text("now")
        if path == "consent.recorded_by":
            import getpass

            return getpass.getuser()
        if question.kind == "yesno" and not question.explicit:
            if path == "situation.is_pmi":
                return self.say.text("yes" if self.draft.get("situation.location_country", "ID") != "ID" else "no")
            if path == "flags.sexual_exploitation":
                exploited = "sexual_exploitation" in (self.draft.get("situation.exploitation") or [])
                return self.say.text("yes" if exploited else "no")
            return self.say.text("yes" if _model_default(path) else "no")
        if question.kind == "country":
            return _model_default(path) or "ID"
        return None

    # -- the summary

    def _confirm(self, intake: Any) -> Question | None:
        """Show the summary; None to save, or the question the operator wants to change. Raises Abort on no."""
        say = self.say
        shown = [q for q in QUESTIONS if q.path in self.asked]
        width = max(len(say.text(q.path)) for q in shown)
        say.echo()
        say.echo(say.text("summary"), fg="cyan", bold=True)
        for number, question in enumerate(shown, 1):
            value = _shown(question, self.draft.get(question.path), intake, say)
            say.echo(f"  {number:>2}  {say.text(question.path):<{width}}  {value}")
        say.echo()
        while True:
            answer = say.ask(say.text("confirm_open" if self.opening else "confirm_save")).lower()
            if answer in _YES:
                return None
            if answer in _NO:
                raise UserError(say.text("cancelled"), REFUSED, code="cancelled")
            if answer.isdigit() and 1 <= int(answer) <= len(shown):
                return shown[int(answer) - 1]
            say.echo(f"  ! {say.text('bad_confirm', count=len(shown))}", fg="red")


# --- reading answers ------------------------------------------------------------------------------------------


def _pick(answer: str, choices: tuple[str, ...], say: Speaker) -> str:
    if answer.isdigit() and 1 <= int(answer) <= len(choices):
        return choices[int(answer) - 1]
    for choice in choices:
        if choice.lower() == answer.lower():
            return choice
    raise Refused(say.text("bad_choice", answer=answer, count=len(choices)))


@cache
def _months() -> dict[str, int]:
    from babel.dates import get_month_names

    months = dict(_MONTH_SPELLINGS)
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            months.update({name.lower().rstrip("."): n for n, name in get_month_names(width, locale=language).items()})
    return months


_DATE_FORMS = (
    # 27-11-2026, 27/11/2026, 27.11.2026
    r"(?P<day>\d{1,2})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<year>\d{4})",
    # 27 November 2026, 27 Nov. 2026, 27-Nov-2026
    r"(?P<day>\d{1,2})[\s\-/]*(?P<name>[^\W\d_]+)\.?[\s\-/]*(?P<year>\d{4})",
    # 2026-11-27
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})",
)
_TIME_FORM = r"(?:[\sT,]+(?:pukul|pkl\.?|jam|at)?\s*(?P<hour>\d{1,2})[.:](?P<minute>\d{2})(?::\d{2})?)?"
_ZONE_FORM = r"(?:\s*(?P<zone>WIB|WITA|WIT|[+-]\d{2}:?\d{2}|Z))?"


def _parse_moment(answer: str) -> tuple[date, time | None, str | None] | None:
    """(date, time or None, zone as written or None) of a date in an Indonesian or ISO form; None if none."""
    import re

    text = " ".join(answer.split())
    for form in _DATE_FORMS:
        found = re.fullmatch(form + _TIME_FORM + _ZONE_FORM, text, flags=re.IGNORECASE)
        if not found:
            continue
        parts = found.groupdict()
        month = int(parts["month"]) if parts.get("month") else _months().get((parts.get("name") or "").lower())
        if month is None:
            return None
        try:
            day = date(int(parts["year"]), month, int(parts["day"]))
            moment = None if parts["hour"] is None else time(int(parts["hour"]), int(parts["minute"]))
        except ValueError:
            return None
        return day, moment, parts["zone"]
    return None


def _read_date(answer: str, say: Speaker) -> date:
    parsed = _parse_moment(answer)
    if parsed is None:
        raise Refused(say.text("bad_date", answer=answer))
    day, moment, zone = parsed
    if moment is not None or zone is not None:
        raise Refused(say.text("date_only"))
    return day


def _read_datetime(answer: str, province: str | None, say: Speaker) -> datetime:
    """A moment in the province's legal time (WIB, WITA or WIT) unless the answer names its zone."""
    from sinergi.domain import places

    where = places.known_province(province)
    hours, name = (where.utc_offset_hours, where.zone) if where is not None else (7, "WIB")
    zone = timezone(timedelta(hours=hours), name)
    if answer.lower() in _NOW:
        return datetime.now(zone).replace(second=0, microsecond=0)
    parsed = _parse_moment(answer)
    if parsed is None:
        raise Refused(say.text("bad_datetime", answer=answer))
    day, moment, written = parsed
    if written:
        written = written.upper()
        if written in places.ZONE_UTC_OFFSET_HOURS:
            zone = timezone(timedelta(hours=places.ZONE_UTC_OFFSET_HOURS[written]), written)
        elif written == "Z":
            zone = UTC
        else:
            sign = -1 if written[0] == "-" else 1
            digits = written[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime.combine(day, moment or time(0, 0), zone)


@cache
def _countries(language: str) -> dict[str, str]:
    """Two-letter country codes and their names in `language` (CLDR, through Babel)."""
    from babel import Locale

    return {code: name for code, name in Locale.parse(language).territories.items()
            if len(code) == 2 and code.isalpha()}


def _read_country(answer: str, say: Speaker) -> str:
    if len(answer) == 2 and answer.upper() in _countries("en"):
        return answer.upper()
    wanted = answer.casefold()
    for language in LANGUAGES:
        for code, name in _countries(language).items():
            if name.casefold() == wanted:
                return code
    raise Refused(say.text("bad_country", answer=answer))


def _names(found: tuple[Any, ...], *, national: bool = False) -> str:
    from sinergi.domain import places

    def one(place: Any) -> str:
        if isinstance(place, places.Province):
            return f"{place.name} ({place.short})"
        return f"{place.name} ({place.province.name})" if national else place.name

    return ", ".join(one(p) for p in found)


# --- the model, as the questions read it ----------------------------------------------------------------------


def _field(path: str) -> Any:
    from sinergi.domain.intake import Intake

    section, _sep, name = path.rpartition(".")
    model = Intake.model_fields[section].annotation if section else Intake
    return model.model_fields[name]  # type: ignore[union-attr] - each section is a model


def _optional(question: Question) -> bool:
    return not _field(question.path).is_required() and not question.explicit


def _model_default(path: str) -> Any:
    return _field(path).get_default(call_default_factory=True)


@cache
def _choices(path: str) -> tuple[str, ...]:
    """The values a field takes: the enum of its JSON schema (a Literal in the model), else the vocabulary the
    reports map its ids with."""
    from sinergi.domain.intake import Intake

    schema = Intake.model_json_schema()
    section, _sep, name = path.rpartition(".")
    where = schema["$defs"][Intake.model_fields[section].annotation.__name__] if section else schema
    found = _enum(where["properties"][name], schema)
    if found:
        return tuple(found)
    if path in _VOCABULARIES:
        from sinergi.reports import _ctdc

        return tuple(getattr(_ctdc, _VOCABULARIES[path]))
    return ()


def _enum(node: Any, schema: dict[str, Any]) -> list[str]:
    if not isinstance(node, dict):
        return []
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    if "$ref" in node:
        return _enum(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key, ()):
            found = _enum(sub, schema)
            if found:
                return found
    return _enum(node.get("items"), schema)


def _partial_section(model: Any, draft: dict[str, Any], section: str) -> Any:
    prefix = f"{section}."
    return model.model_construct(**{p[len(prefix):]: v for p, v in draft.items() if p.startswith(prefix)})


def _partial_intake(draft: dict[str, Any]) -> Any:
    """The intake answered so far, unvalidated: what the next answer is checked beside."""
    from sinergi.domain.intake import Intake

    sections = {s: _partial_section(Intake.model_fields[s].annotation, draft, s) for s in SECTIONS}
    return Intake.model_construct(**{p: v for p, v in draft.items() if "." not in p}, **sections)


def _nested(draft: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in draft.items():
        section, _sep, name = path.rpartition(".")
        (out.setdefault(section, {}) if section else out)[name] = value
    return out


def _message(err: Mapping[str, Any]) -> str:
    return str(err["msg"]).removeprefix("Value error, ")


def _as_answer(question: Question, value: Any, say: Speaker) -> str:
    """A value as the operator would type it (what Enter keeps when a line is changed)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return say.text("yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return f"{value:%d-%m-%Y}"
    return str(value)


def _shown(question: Question, value: Any, intake: Any, say: Speaker) -> str:
    """A value as the summary shows it: places and countries by name, dates in the operator's language."""
    from sinergi.domain import places

    if value is None or value == []:
        return say.text("none")
    if isinstance(value, bool):
        return say.text("yes" if value else "no")
    if question.kind == "province":
        return places.province_label(value)
    if question.kind in ("regency", "home"):
        return places.label(value, intake.province)
    if question.kind == "country":
        return f"{value} ({_countries(say.language).get(value, value)})"
    if question.kind == "choice":
        return f"{value} — {say.label(question.path, value)}"
    if question.kind == "multi":
        return "; ".join(f"{v} — {say.label(question.path, v)}" for v in value)
    if isinstance(value, datetime):
        return local_datetime(value, value.tzinfo or UTC)
    if isinstance(value, date):
        return f"{value.day} {_(MONTHS[value.month - 1])} {value.year}"
    return str(value)


# --- the file -------------------------------------------------------------------------------------------------


def _check_target(path: Path, say: Speaker) -> None:
    """Refuse a target that cannot be written before a single question is asked."""
    if path.exists():
        raise UserError(say.text("exists", path=path), BAD_INPUT, hint=say.text("exists_hint"), code="file_exists")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(say.text("no_folder", folder=folder), BAD_INPUT, code="no_folder")


def write_intake(intake: Any, path: Path, say: Speaker) -> Path:
    """The intake as JSON in a new file readable by its owner only (mode 600); never over an existing file."""
    import json

    text = json.dumps(intake.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserError(say.text("exists", path=path), BAD_INPUT, hint=say.text("exists_hint"),
                        code="file_exists") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)
    return path


def _default_province(app: App) -> str:
    """The deployment's province where its settings name one (`[ui] province`), else KALSEL."""
    ui = getattr(app.settings, "ui", None)
    return getattr(ui, "province", None) or DEFAULT_PROVINCE
