"""What an e-mail office reads: subject, text and HTML of referral and notice e-mails, in the office's language.

Templates (Jinja2) live in `email_templates/`; their words and the words below are translated by the gettext
catalogs in `email_templates/locale/<lang>/LC_MESSAGES/email.po`, compiled to `.mo` when the package is built
(`hatch_build.py`), never at run time. Nothing here sees `ReferralMessage.data`: the renderer is given ids,
the service, the stage, the due time and the link, so personal data cannot reach a mail by a template's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sinergi.platform.i18n import CatalogsMissing, compiled_translations, local_datetime  # noqa: F401 - part of this module's API

TEMPLATES = Path(__file__).parent / "email_templates"
LOCALES = TEMPLATES / "locale"
DOMAIN = "email"
LANGUAGES = ("id", "en")
Language = Literal["id", "en"]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel's extractor looks for
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


# The services of `domain/routing.SERVICES`, as an office's officer says them (tests/unit check none is missing).
SERVICE_WORDS = {
    "screening": N_("identification screening"),
    "protection_abroad": N_("protection abroad"),
    "child_protection": N_("child protection and case management"),
    "police_report": N_("police report and investigation"),
    "foreign_victim": N_("contact with a foreign victim's mission"),
    "shelter": N_("shelter placement"),
    "urgent_first_aid": N_("urgent first aid"),
    "legal_aid": N_("legal aid"),
    "health": N_("health rehabilitation"),
    "social": N_("social rehabilitation"),
    "repatriation": N_("repatriation"),
    "reintegration": N_("reintegration support"),
    "travel_document_and_return": N_("travel document and return"),
    "port_reception": N_("reception at the port of entry"),
    "onward_travel": N_("transit shelter and onward travel home"),
    "domestic_return": N_("return within Indonesia"),
    "handover_to_mission": N_("hand-over to the victim's own mission"),
    "family_reintegration": N_("family and community reintegration"),
    "rights_and_empowerment": N_("settlement of unpaid rights and empowerment"),
}

STAGE_WORDS = {
    "identification": N_("identification"),
    "protection": N_("protection"),
    "rehabilitation": N_("rehabilitation"),
    "repatriation": N_("repatriation"),
    "reintegration": N_("reintegration"),
    "closed": N_("closed"),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class EmailRenderer:
    """One Jinja2 environment per language, each with its catalog installed; built once per adapter."""

    def __init__(self) -> None:
        self._translations = {language: _translations(language) for language in LANGUAGES}
        self._environments = {language: _environment(t) for language, t in self._translations.items()}

    def render(self, template: str, language: Language, **context: object) -> Rendered:
        env = self._environments[language]
        parts = {part: env.get_template(f"{template}.{part}").render(language=language, **context).strip()
                 for part in ("subject.txt", "txt", "html")}
        # A header is one line: whatever the template's layout, the subject is folded to one.
        subject = " ".join(parts["subject.txt"].split())
        return Rendered(subject=subject, text=parts["txt"] + "\n", html=parts["html"] + "\n")

    def paragraph(self, template: str, language: Language, **context: object) -> str:
        """`<template>.txt` as one paragraph in `language` (a notice's `text` for an office's own system)."""
        rendered = self._environments[language].get_template(f"{template}.txt").render(language=language, **context)
        return " ".join(rendered.split())

    def words(self, language: Language, message: str) -> str:
        return self._translations[language].gettext(message)


def _translations(language: Language) -> Translations:
    return compiled_translations(LOCALES, DOMAIN, language)


def _environment(translations: Translations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        # HTML parts are escaped; text parts and subjects are not HTML (escaping would show `&amp;` to the reader).
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a missing value fails the render (and the test), never an empty line in a mail
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations, newstyle=True)
    return env
