"""The language of the command line (SPEC "Language"): which one a run speaks, the `cli` gettext catalog it
speaks through, the click classes that show every help text in it, and dates as people read them.

Which language: `--lang id|en` (on the root or any command), else `SINERGI_LANG`, else `[ui] language` of the
configuration (`SINERGI_UI_LANGUAGE`, the profile's, the sinergi.toml's), else the locale (`LC_ALL`,
`LC_MESSAGES`, `LANG`, the first one set: `id_*` is Bahasa Indonesia), else English (`resolve_language`). The
root guesses it from the command line before click parses anything (a usage error is told in it too); each
command settles it from its own options (`kit.app_from`). JSON keys, event types, ids, error codes and exit
codes never change with it; the words do.

The messages are English in the code (`_("...")`, `N_` where a word is defined apart from where it is shown);
help texts (docstrings, option help) are translated when help is shown, paragraph by paragraph
(`translate_help`), so `--lang` works per invocation and `sinergi --help` imports no command module. click's own
words (`Usage:`, `Options`, its errors) go through the same catalog. The catalog is `locale/<lang>/
LC_MESSAGES/cli.po`, compiled to `.mo` by the build (`hatch_build.py`), never at run time; a missing `.mo`
leaves the words in English (tests/unit/test_cli_catalogs.py fails first). Maintainers refresh it with
`python -m sinergi.cli_catalogs update`, translate what is new or fuzzy, then reinstall.

Cheap to import (stdlib and click): `sinergi --version` and `--help` load it.
"""

from __future__ import annotations

import gettext
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from functools import cache
from typing import Any

import click

from sinergi.platform.languages import (  # noqa: F401 - the CLI's names for them
    DEFAULT_LANGUAGE,
    LANG_ENV,
    LANGUAGES,
    UnknownLanguage,
    resolve_language,
)

DOMAIN = "cli"
LOCALES = os.path.join(os.path.dirname(__file__), "locale")  # not pathlib: `--help` would import it for this
UI_LANGUAGE_ENV = "SINERGI_UI_LANGUAGE"  # `[ui] language` as an environment variable (sinergi.platform.config)
PROFILE_ENV = "SINERGI_PROFILE"
CONFIG_ENV = "SINERGI_CONFIG"
DEFAULT_CONFIG_FILE = "sinergi.toml"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel's extractor looks for
    """Mark a message for the catalog where it is defined; it is translated (`_`) where it is shown."""
    return message


# Words click shows that its own source does not mark where they are written (tests/unit/test_cli_catalogs.py).
CLICK_WORDS = (N_("Show this message and exit."), N_("Show the version and exit."), N_("required"))
# click's words left in English: the names of path types, which click fixes when a command module is imported and
# shows as metavars (`--config FILE`), typed like the options themselves.
CLICK_UNTRANSLATED = frozenset({"file", "directory", "path"})
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
          N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def user_config_file(env: Mapping[str, str]) -> str:
    """`$XDG_CONFIG_HOME/sinergi/config.toml`, else `~/.config/sinergi/config.toml` (a relative
    XDG_CONFIG_HOME is ignored, as the XDG specification says). `profiles.user_config_path` as a Path."""
    base = env.get("XDG_CONFIG_HOME", "")
    if not base or not os.path.isabs(base):
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(base, "sinergi", "config.toml")


def configured_language(config_path: str | None, profile: str | None, env: Mapping[str, str]) -> str | None:
    """`[ui] language` as the settings would have it (`SINERGI_UI_LANGUAGE`, over the profile's, over the
    sinergi.toml's), read without loading the settings: `sinergi --help` must not import pydantic. Anything it
    cannot read counts as unset here: loading the settings reports it, with the file and the key."""
    value = env.get(UI_LANGUAGE_ENV)
    if value:
        return value if value in LANGUAGES else None
    user_file = user_config_file(env)
    profiles = _toml(user_file).get("profiles")
    profiles = profiles if isinstance(profiles, dict) else {}
    name = profile or env.get(PROFILE_ENV) or ("default" if "default" in profiles else None)
    table = profiles.get(name) if name else None
    table = table if isinstance(table, dict) else {}
    found = _ui_language(table)
    if found:
        return found
    path = config_path or env.get(CONFIG_ENV) or None
    if path is None and isinstance(table.get("config"), str):
        path = os.path.join(os.path.dirname(user_file), os.path.expanduser(table["config"]))
    if path is None and os.path.isfile(DEFAULT_CONFIG_FILE):
        path = DEFAULT_CONFIG_FILE
    return _ui_language(_toml(os.path.expanduser(path))) if path is not None else None


def _toml(path: str) -> dict[str, Any]:
    import tomllib  # only when neither --lang nor SINERGI_LANG decided

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _ui_language(table: Mapping[str, Any]) -> str | None:
    ui = table.get("ui")
    value = ui.get("language") if isinstance(ui, dict) else None
    return value if value in LANGUAGES else None


def _flag(words: Sequence[str], name: str) -> str | None:
    for i, word in enumerate(words):
        if word == name and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(f"{name}="):
            return word.partition("=")[2]
    return None


def guess_language(args: Sequence[str], env: Mapping[str, str]) -> str:
    """The language the command line asks for, read before click parses it (as `console.guess_output`), so
    that click's own errors are told in it too. A `--lang` click will refuse is left to click."""
    words = list(args[:args.index("--")] if "--" in args else args)
    explicit = _flag(words, "--lang")
    return resolve_language(explicit if explicit in LANGUAGES else None, env,
                            lambda: configured_language(_flag(words, "--config"), _flag(words, "--profile"), env))


# --- the catalog -----------------------------------------------------------------------------------------------


_catalogs: dict[str, gettext.NullTranslations] = {}
_active: list[tuple[str, gettext.NullTranslations]] = [(DEFAULT_LANGUAGE, gettext.NullTranslations())]


def catalog(language: str) -> gettext.NullTranslations:
    """The compiled `cli` catalog of `language`; without one (a build step skipped), the English of the code."""
    if language not in _catalogs:
        compiled = os.path.join(LOCALES, language, "LC_MESSAGES", f"{DOMAIN}.mo")
        try:
            with open(compiled, "rb") as fh:
                _catalogs[language] = gettext.GNUTranslations(fh)
        except OSError:
            _catalogs[language] = gettext.NullTranslations()
    return _catalogs[language]


def use_language(language: str) -> None:
    """Speak `language` for the rest of this run (one process, one run: as `console.use_output`)."""
    _active[0] = (language, catalog(language))


def current_language() -> str:
    return _active[0][0]


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """`language` inside the block, the one before it after (tests; rendering for someone else)."""
    before = _active[0]
    use_language(language)
    try:
        yield
    finally:
        _active[0] = before


def _(message: str) -> str:
    """`message` (English, as written in the code) in the language of this run."""
    return _active[0][1].gettext(message) if message else message  # "" would be the catalog's header


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active[0][1].ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in the sense `context` names (the same English word, two Indonesian ones)."""
    return _active[0][1].pgettext(context, message)


def words(table: Mapping[str, str], code: str) -> str:
    """The word for `code` in `table` (its English, marked with N_), translated; an unknown code as it is."""
    return _(table[code]) if code in table else code


# click marks its words with the stdlib's gettext, whose catalog nobody installs: each of its modules that shows
# words at run time (usage, headings, errors) speaks through ours instead. Not `click.decorators`: what it words
# is fixed when a command is decorated (its help options' texts), and those are translated when help is shown.
CLICK_MODULES = ("core", "exceptions", "formatting", "parser", "types", "termui", "utils", "shell_completion")


def speak_through_click() -> None:
    """Make click's modules loaded so far speak through the catalog (`shell_completion` loads late: called again
    when completing)."""
    for name in CLICK_MODULES:
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


speak_through_click()


# --- help texts ------------------------------------------------------------------------------------------------

# A line of an example block: a label in prose, then what to type (`Open a case:   sinergi case open FILE`).
_LABELLED = re.compile(r"^(\s+)([^\s:][^:]*?\s[^:]*?:)(\s{2,})(\S.*)$")
# A line of a list of terms: a code, then what it means in prose (`caseworker  enters events and reads cases`).
_DEFINED = re.compile(r"^(\s+)([^\s:]*[^\s:])(\s{2,})(\S.*)$")


def translate_help(text: str, translate: Callable[[str], str] = _) -> str:
    """A help text (a docstring, cleaned as click cleans it) with each paragraph translated.

    A paragraph is one message, its lines joined (click wraps it again). A `\\b` block (examples) keeps its
    lines: its heading (`Examples:`, or lines of prose at the margin, one message wrapped again as wide) and the
    prose labels of its indented lines are translated, labels realigned, and what to type is left as it is.
    `help_messages` lists the messages this asks for: the catalog's extraction."""
    text = inspect.cleandoc(text).partition("\f")[0]
    return "\n\n".join(_block(p, translate) if p.startswith("\b") else translate(one_line(p))
                       for p in re.split(r"\n[ \t]*\n", text) if p.strip())


def one_line(text: str) -> str:
    """A paragraph as one message: its lines joined, its blanks single (click wraps it again)."""
    return " ".join(text.split())


def _block(paragraph: str, translate: Callable[[str], str]) -> str:
    import textwrap

    head, *lines = paragraph.split("\n")
    rows: list[str | tuple[str, str, str]] = []
    prose: list[str] = []  # lines at the margin: a heading (`Examples:`), or prose kept from click's wrapping

    def flush() -> None:
        if prose:
            width = max(40, *(len(line) for line in prose))
            rows.extend(textwrap.wrap(translate(one_line(" ".join(prose))), width) or [""])
            prose.clear()

    for line in lines:
        if line.strip() and not line[0].isspace():
            prose.append(line.strip())
            continue
        flush()
        labelled, defined = _LABELLED.match(line), _DEFINED.match(line)
        if labelled:
            rows.append((labelled[1], translate(labelled[2]), labelled[4]))
        elif defined:
            rows.append((defined[1], defined[2], translate(defined[4])))
        else:
            rows.append(line)
    flush()
    width = max((len(row[1]) for row in rows if isinstance(row, tuple)), default=0)
    return "\n".join([head, *(row if isinstance(row, str) else f"{row[0]}{row[1]:<{width}}  {row[2]}"
                              for row in rows)])


def help_messages(text: str) -> list[str]:
    """The messages `translate_help` asks the catalog for, in order."""
    found: list[str] = []

    def collect(message: str) -> str:
        found.append(message)
        return message

    translate_help(text, collect)
    return found


@contextmanager
def _translated_help_of(params: Iterable[click.Parameter]) -> Iterator[None]:
    """The parameters' help in this run's language while click formats them (then as written again)."""
    changed = [(p, p.help) for p in params if getattr(p, "help", None)]
    try:
        for param, text in changed:
            param.help = _(one_line(str(text)))
        yield
    finally:
        for param, text in changed:
            param.help = text


class Translated:
    """What the CLI's commands show people, in this run's language: their help, their summary in a listing,
    their options' help. Mixed into click's classes (`Command`, `Group`)."""

    help: str | None
    short_help: str | None
    epilog: str | None

    def get_short_help_str(self, limit: int = 45) -> str:
        from click.utils import _make_default_short_help

        if self.short_help:
            return _(one_line(self.short_help)).strip()
        if self.help:
            return _make_default_short_help(translate_help(self.help), limit).strip()
        return ""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = translate_help(self.help) if self.help else ""
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated_help_of(self.get_params(ctx)):  # type: ignore[attr-defined]  # a click.Command's
            super().format_options(ctx, formatter)  # type: ignore[misc]  # click.Command's, next in the MRO

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.epilog:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(translate_help(self.epilog))


class Command(Translated, click.Command):
    """A command whose help is shown in the run's language."""


class _Adopting:
    """A group that takes its commands in as ours (`adopt`)."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(adopt(cmd), name)  # type: ignore[misc]  # click.Group's, next in the MRO


class Group(Translated, _Adopting, click.Group):
    """A group whose help is shown in the run's language; so is the help of every command added to it, even one
    made with click's own classes (`adopt`)."""

    command_class = Command
    group_class = type  # a subgroup is a Group as well


@cache
def _translated_class(base: type[click.Command]) -> type[click.Command]:
    if issubclass(base, click.Group):
        return type(base.__name__, (Translated, _Adopting, base), {"__module__": base.__module__,
                                                                    "command_class": Command, "group_class": type})
    return type(base.__name__, (Translated, base), {"__module__": base.__module__})


def adopt(command: click.Command) -> click.Command:
    """`command` (and the commands of a group), their help shown in the run's language: a command declared with
    click's own classes (`@click.group()`) becomes one of ours when the CLI takes it in, whoever wrote it."""
    if not isinstance(command, Translated):
        command.__class__ = _translated_class(type(command))
    for sub in getattr(command, "commands", {}).values():
        adopt(sub)
    return command


# --- dates -----------------------------------------------------------------------------------------------------


def local_datetime(value: datetime | None, zone: tzinfo) -> str:
    """`27 November 2026 08.00 WITA` in Bahasa Indonesia, `27 November 2026 08:00 WITA` in English: a moment in
    `zone` (the case's), as people write it (as `sinergi.platform.i18n.local_datetime` does for offices)."""
    if value is None:
        return "-"
    local = value.astimezone(zone)
    clock = _("{hour:02d}:{minute:02d}").format(hour=local.hour, minute=local.minute)
    return f"{local.day} {_(MONTHS[local.month - 1])} {local.year} {clock} {local.tzname()}"
