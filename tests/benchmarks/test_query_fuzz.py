"""The query fuzz benchmark (benchmarks/query_fuzz.py): its generator, and a short run on Reuters
as CI runs it in full."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

from query_fuzz import Generator  # noqa: E402


def test_generator_covers_every_kind_within_the_length_limit() -> None:
    words = [f"word{i}" for i in range(200)]
    gen = Generator(
        ["the", "said", "oil", "of", "and", "to", "in", "a", *words[:52]], words, random.Random(1)
    )
    kinds = set()
    for _ in range(2000):
        kind, query = gen.next()
        kinds.add(kind)
        assert query.strip() and len(query) <= 2000, (kind, query)
    assert len(kinds) == 10


@pytest.mark.slow
def test_every_fuzzed_query_is_answered_or_refused_within_the_budget(
    shared_data: Path, tmp_path: Path
) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "query_fuzz.py"),
            "--reuters",
            str(shared_data / "reuters21578"),
            "--archive",
            str(tmp_path / "archive"),
            "--queries",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": str(src)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok: every query answered or refused within the budget" in out.stdout
