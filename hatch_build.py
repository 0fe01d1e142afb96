"""Build hook: compile the gettext catalogs (e-mails, referral page, reports, the CLI), `.po` → `.mo`, at build
and install.

The `.po` sources are kept in the repository; the compiled `.mo` files are build output (git-ignored) and are
never compiled at run time, so a worker never writes into its own installation. `pip install -e .` (what
`make install` runs) and `pip install .` (the image) both run this hook. Registered in pyproject.toml under
`[tool.hatch.build.hooks.custom]`; Babel is a build requirement there.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Every gettext catalog of the package: the e-mails', the referral page's, the reports' and the CLI's.
CATALOGS = "sinergi/**/locale/*/LC_MESSAGES/*.po"


class CatalogBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path(self.root).glob(CATALOGS)):
            language = po.parent.parent.name
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=language)
            mo = po.with_suffix(".mo")
            # Fuzzy entries are left out (gettext's rule): an unreviewed guess must not reach an office.
            with mo.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            if self.target_name == "wheel" and version != "editable":
                # The .mo files are git-ignored, which hatch would otherwise leave out of the wheel.
                build_data["force_include"][str(mo)] = str(mo.relative_to(self.root))
