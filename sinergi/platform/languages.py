"""Which language a person reads sinergi in (SPEC "Language"): `id` (Bahasa Indonesia) or `en`, chosen by
`--lang`, else `SINERGI_LANG`, else `[ui] language`, else the locale (`id_*` is Bahasa Indonesia), else English.

One rule for the command line (`sinergi.commands.language`) and the reports it renders
(`sinergi.reports.render`); an office's e-mails and pages use the office's own `language` instead. Standard
library only: `sinergi --help` decides its language with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "en"
LANG_ENV = "SINERGI_LANG"
LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")


class UnknownLanguage(ValueError):
    """`--lang` or `SINERGI_LANG` names a language sinergi does not speak."""


def resolve_language(explicit: str | None, env: Mapping[str, str],
                     configured: Callable[[], str | None] | str | None = None) -> str:
    """`explicit` (`--lang`), else `SINERGI_LANG`, else `configured` (`[ui] language`; a callable is asked only
    when needed), else the locale (the first of LC_ALL, LC_MESSAGES, LANG that is set, as POSIX reads them:
    `id` or `id_*` is Bahasa Indonesia, anything else English), else English. UnknownLanguage for a language
    sinergi does not have."""
    for where, value in (("--lang", explicit), (LANG_ENV, env.get(LANG_ENV))):
        if value:
            if value not in LANGUAGES:
                raise UnknownLanguage(f"{where}: language {value!r}: expected one of {', '.join(LANGUAGES)}")
            return value
    chosen = configured() if callable(configured) else configured
    if chosen in LANGUAGES:
        return chosen
    for variable in LOCALE_ENVS:
        locale = env.get(variable)
        if locale:  # the first one set decides: LC_ALL=C means C, whatever LANG says
            return "id" if re.match(r"id(?:[_.@]|$)", locale) else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
