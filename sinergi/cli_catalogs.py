"""The command line's catalogs (`sinergi/commands/locale/<lang>/LC_MESSAGES/cli.po`): every message a person reads
from `sinergi`, extracted, and each language's `.po` kept in step with them (`sinergi.platform.i18n.Catalogs`);
compiled by the build (`hatch_build.py`), never at run time.

    python -m sinergi.cli_catalogs update       # new messages empty, changed ones fuzzy, gone ones dropped
    (translate what is empty or fuzzy in id/LC_MESSAGES/cli.po, then drop the fuzzy flags)
    .venv/bin/pip install -e .                  # compiles the .mo files

What is extracted: the `_()`, `ngettext()`, `pgettext()` and `N_()` calls of `sinergi/cli.py` and
`sinergi/commands/`; the help of every command of the tree, as `language.translate_help` asks for it (each
paragraph, the headings and labels of examples) and every option's help; click's own words (usage, headings,
its errors); and the words the CLI shows of the domain and of the shipped policies: what each event type does
and what each field of its data is, each service, each clock's title, escalation role and source (a law's name
is its own translation; sinergi's words, `sinergi default (no statute)`, are translated), the working days'
source. English is the language of the code: `en/.../cli.po` lists the messages with no translation (the English is
the message itself). `tests/unit/test_cli_catalogs.py` fails while a catalog is stale, untranslated or fuzzy.

It lives outside `sinergi.commands`, which never imports `sinergi.cli` (it reads the command tree from there).
"""

from __future__ import annotations

import inspect
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from sinergi.commands.language import (
    CLICK_MODULES,
    CLICK_UNTRANSLATED,
    DOMAIN,
    LANGUAGES,
    LOCALES,
    help_messages,
    one_line,
)
from sinergi.platform.i18n import Catalogs

ROOT = Path(__file__).parent
SOURCES = (ROOT / "cli.py", ROOT / "devserver.py", ROOT / "demo.py", *sorted((ROOT / "commands").glob("*.py")))
POLICIES = tuple(sorted((ROOT / "policies").glob("*.toml")))


def _where(path: Path | str) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT.parent))
    except ValueError:
        return f"click/{path.name}"  # click's own source, wherever it is installed


def commands() -> Iterator[tuple[str, click.Command]]:
    """Every command of `sinergi`, by its path (`sinergi case open`), every lazy one loaded."""
    from sinergi.cli import cli

    todo: list[tuple[str, click.Command]] = [("sinergi", cli)]
    while todo:
        path, command = todo.pop(0)
        yield path, command
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path)
            for name in command.list_commands(ctx):
                found = command.get_command(ctx, name)
                if found is not None:
                    todo.append((f"{path} {name}", found))


def help_texts() -> Iterator[tuple[str, str, int]]:
    """(message, file, line) of every help text of the command tree."""
    for path, command in commands():
        callback = inspect.unwrap(command.callback) if command.callback else None
        where = (_where(inspect.getsourcefile(callback) or path), callback.__code__.co_firstlineno) \
            if callback is not None else (path, 0)
        for text in (command.help, command.short_help, command.epilog):
            for message in help_messages(text) if text else ():
                yield message, *where
        ctx = click.Context(command, info_name=path)
        for param in command.get_params(ctx):
            text = getattr(param, "help", None)
            if text:
                yield one_line(text), *where


# Said to the translator beside each policy source: the catalog decides, source by source, what is translated.
SOURCE_NOTE = ("A policy's source. A law's name or citation stays as written (msgstr = msgid; docs/glossary.md); "
               "sinergi's own words are translated.")


def domain_words() -> Iterator[tuple[str, str, int] | tuple[str, str, int, str]]:
    """What the CLI shows of the domain and the shipped policies in people's words: what each event type does
    and what each field of its data is (the models' `Field(description=...)`, English in the API schema and in
    `--json`, translated in text), each service, and of each shipped policy its clocks' titles, escalation roles
    and sources, and its working days' source (the model's default too: a policy that names none shows it)."""
    from sinergi.commands.event_catalog import fields_of
    from sinergi.domain.events import EVENT_CLASSES
    from sinergi.domain.policy import WorkingDays
    from sinergi.domain.routing import SERVICES

    for event_type, cls in EVENT_CLASSES.items():
        yield cls.effect, "sinergi/domain/events.py", inspect.getsourcelines(cls)[1]
        data_model = cls.model_fields["data"].annotation
        for field in fields_of(event_type):
            if field.description:
                yield field.description, "sinergi/domain/events.py", inspect.getsourcelines(data_model)[1]
    for words in SERVICES.values():
        yield words[0], "sinergi/domain/routing.py", 0
    yield WorkingDays.model_fields["source"].default, "sinergi/domain/policy.py", 0, SOURCE_NOTE
    for policy in POLICIES:
        with policy.open("rb") as fh:
            loaded = tomllib.load(fh)
        if "source" in loaded.get("working_days", {}):
            yield loaded["working_days"]["source"], _where(policy), 0, SOURCE_NOTE
        for clock in loaded.get("clocks", {}).values():
            yield clock["title"], _where(policy), 0
            yield clock["source"], _where(policy), 0, SOURCE_NOTE
            for rung in clock.get("escalation", ()):
                yield rung["role"], _where(policy), 0


@dataclass(frozen=True)
class CliCatalogs(Catalogs):
    """`Catalogs` whose messages are the command line's (above) rather than a folder of templates'."""

    def extract(self):
        from babel.messages.catalog import Catalog
        from babel.messages.extract import extract_from_file

        catalog = Catalog(project="sinergi", domain=self.domain)
        for source in SOURCES:
            for lineno, message, comments, context in extract_from_file("python", source):
                catalog.add(message, locations=[(_where(source), lineno)], auto_comments=comments, context=context)
        for name in CLICK_MODULES:
            module = sys.modules.get(f"click.{name}") or __import__(f"click.{name}", fromlist=["_"])
            for lineno, message, comments, context in extract_from_file("python", module.__file__):
                if message in CLICK_UNTRANSLATED:
                    continue
                catalog.add(message, locations=[(_where(module.__file__), lineno)], auto_comments=comments,
                            context=context)
        for message, where, lineno, *comments in (*help_texts(), *domain_words()):
            if message not in catalog:
                catalog.add(message, locations=[(where, lineno)], auto_comments=comments)
            else:
                catalog[message].locations.append((where, lineno))
                catalog[message].auto_comments.extend(c for c in comments
                                                      if c not in catalog[message].auto_comments)
        return catalog

    def update(self) -> None:
        super().update()
        # English is the language of the code: its catalog lists the messages, each the English itself.
        from babel.messages.pofile import write_po

        english = self.read("en")
        for message in english:
            if message.id:
                message.string = ("",) * len(message.string) if isinstance(message.string, tuple) else ""
                message.flags.discard("fuzzy")
                message.previous_id = []
        with self.po_path("en").open("wb") as fh:
            write_po(fh, english, width=120, ignore_obsolete=True)


CATALOGS = CliCatalogs(domain=DOMAIN, locales=Path(LOCALES), templates=Path(LOCALES), source=ROOT / "cli.py",
                       languages=LANGUAGES)
po_path, extract, read, update = CATALOGS.po_path, CATALOGS.extract, CATALOGS.read, CATALOGS.update

if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m sinergi.cli_catalogs update")
    update()
