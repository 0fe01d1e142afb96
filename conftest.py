"""Root pytest configuration.

Processes that used the Temporal client can abort at interpreter exit (temporalio/sdk-python#300,
``PyGILState_Release``). We flush and leave with ``os._exit`` carrying pytest's real exit code, so a
failing run still fails and a passing run never turns into a crash. Exit code 5 (no tests collected)
is kept as pytest reports it: hiding it is CI's decision, not ours.
"""

import os
import sys

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_cmdline_main(config):
    outcome = yield
    code = int(outcome.get_result())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
