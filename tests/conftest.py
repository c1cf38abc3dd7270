"""Shared test fixtures: a temporary archive per test, and the real data in ../shared when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def _shared_root() -> Path:
    env = os.environ.get("SOURCEBOOK_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


SHARED = _shared_root()
SEED_RECORD = SHARED / "examples" / "refworld" / "000_daad56808568b6dc.txt"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip the test when it is absent (a fresh machine has no shared/)."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip("../shared/data is absent")
    return data


@pytest.fixture
def seed_record() -> Path:
    """The real Refworld seed record, or skip when ../shared is absent."""
    if not SEED_RECORD.is_file():
        pytest.skip("../shared/examples/refworld is absent")
    return SEED_RECORD
