"""Unit tests run the CLI in process (click's runner): they read what it says in English, whatever the
developer's own locale, unless a test asks for another language."""

from __future__ import annotations

import pytest

from sinergi.commands.language import DEFAULT_LANGUAGE, use_language


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    for variable in ("LC_ALL", "LC_MESSAGES", "SINERGI_LANG", "SINERGI_UI_LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    use_language(DEFAULT_LANGUAGE)  # one process, one run's language: the next test starts in English
