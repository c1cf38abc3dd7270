"""The scale benchmark (benchmarks/scale.py) on a tiny archive: the recombined corpus, the build
that is reused, and every measurement, as CI runs them at 100k passages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # last: benchmarks/http.py must not shadow http

import scale  # noqa: E402
from _synthetic import UNIT_MAX, UNIT_MIN, Generator, load_pools, units_of  # noqa: E402
from sourcebook.passages import split_passages  # noqa: E402

TINY = 2_000


def test_units_stay_single_passages() -> None:
    sentence = "The commission heard {} witnesses about detention conditions in the north. "
    body = "\n\n".join(
        [
            "Short heading",
            "".join(sentence.format(i) for i in range(40)),  # long: cut at sentence ends
            "A short paragraph that is joined to the next one.",
            "".join(sentence.format(i) for i in range(4)),
        ]
    )
    units = units_of(body)
    assert len(units) > 3
    assert all(UNIT_MIN <= len(u) <= UNIT_MAX for u in units)
    assert len(split_passages("\n\n".join(units))) == len(units)


@pytest.fixture(scope="module")
def generator() -> Generator:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip("../shared/data is absent")
    return Generator(load_pools(data), seed=5)


@pytest.mark.shared
def test_generator_is_deterministic_and_exact(generator: Generator) -> None:
    first = list(generator.documents(TINY))
    again = list(generator.documents(TINY))
    assert [d.body for d in first] == [d.body for d in again]
    assert sum(len(split_passages(d.body)) for d in first) == TINY
    assert {d.language for d in first} == {"en", "fr", "ru"}
    assert {d.collection for d in first} == {"news", "reports", "research"}
    dates = sorted(d.publication_date for d in first if d.publication_date)
    assert (dates[-1] - dates[0]).days > 15 * 365
    assert all(d.countries and d.publisher and d.title for d in first)


@pytest.mark.shared
def test_scale_run_on_a_tiny_archive(generator: Generator, tmp_path: Path) -> None:
    fig = scale.run_size(
        TINY, generator, tmp_path, queries=34, rounds=1, serve_requests=20, enrich=False, seed=3
    )
    assert fig["passages"] == TINY
    assert fig["build"]["archive"]["failed"] == 0
    assert fig["build"]["ingest_without_enrichment"]["passages"] == TINY
    search = fig["search"]
    assert search["sourcebook"]["threads2"]["qps"] > 0
    assert search["raw_tantivy"]["threads1"]["p50_ms"] > 0
    assert search["bm25s"]["queries1"] > 0
    assert set(search["sourcebook"]["by_kind"]) >= {"term", "phrase", "country", "deep_page"}
    assert search["sourcebook"]["zero_hit_queries"] < 34
    assert fig["memory"]["serve"]["errors"] == 0
    assert fig["memory"]["serve"]["rss_peak_mb"] >= fig["memory"]["serve"]["rss_steady_mb"] > 0
    assert fig["memory"]["in_process"]["rss_peak_mb"] > 0
    assert len(fig["cold_start"]["cli_search_s"]) == 3
    assert set(fig["targets"]) == set(scale.TARGETS)
    scale.print_size(fig)

    # a second build of the same size reuses the archive and the peers
    folder = tmp_path / f"passages-{TINY}"
    before = json.loads((folder / "build.json").read_text())
    again = scale.build(TINY, generator, folder, enrich=False)
    assert again["archive"] == before["archive"]

    png = tmp_path / "growth.png"
    scale.plot([fig], png)
    assert png.read_bytes().startswith(b"\x89PNG")
