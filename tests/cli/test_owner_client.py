"""The CLI's client path stays light: starting `planvec` imports no numpy/qdrant/model."""

from __future__ import annotations

import subprocess
import sys

from planvec.cli import index_cmds
from planvec.search import SEARCH_MODES


def test_cli_start_imports_nothing_heavy() -> None:
    code = (
        "import sys, planvec.cli.main; heavy = [m for m in ('numpy', 'qdrant_client', "
        "'qdrant_edge', 'onnxruntime', 'torch', 'fastapi', 'uvicorn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_search_modes_of_the_cli_are_the_library_s() -> None:
    assert index_cmds.SEARCH_MODES == SEARCH_MODES
