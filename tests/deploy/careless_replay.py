"""`sinergi admin replay` as an operator runs it, but on a careless change to the case workflow: the
canary of tests/replay (it stops publishing search attributes). Used by test_admin_cli.py as

    python tests/deploy/careless_replay.py HISTORY.json ...
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "replay"))

from test_replay import CaseWorkflowWithoutSearchAttributes  # noqa: E402

import sinergi.worker  # noqa: E402 - after the path set-up above

# The replayer uses the worker's own list: swapping its content is swapping the deployed code.
sinergi.worker.WORKFLOWS[:] = [CaseWorkflowWithoutSearchAttributes]

from sinergi.cli import main  # noqa: E402

main(["admin", "replay", *sys.argv[1:]])
