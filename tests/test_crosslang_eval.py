"""The cross-language evaluation's queries, judgments and scoring (no model: fast)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sourcebook.crosslang_eval import (
    CrosslangReport,
    CrossQuery,
    article_keys,
    check_floors,
    read_queries,
    score_runs,
)
from sourcebook.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "benchmarks" / "crosslang_queries.tsv"
DATA = ROOT.parent / "shared" / "data" / "wikinews-fr-ru"


def test_the_query_file_has_fifty_english_queries_and_the_reverse_direction() -> None:
    queries = read_queries(QUERIES)
    by_direction = Counter(q.direction for q in queries)
    assert sum(n for d, n in by_direction.items() if d.startswith("en>")) >= 50
    assert by_direction["en>fr"] >= 20 and by_direction["en>ru"] >= 20
    assert by_direction["fr>ru"] >= 10 and by_direction["ru>fr"] >= 10
    assert len({q.qid for q in queries}) == len(queries)
    for query in queries:
        assert query.text.strip() and 2 in query.judged.values()
        assert set(query.judged.values()) <= {1, 2}
        assert all(doc.split("/")[0] in ("fr", "ru") for doc in query.judged)


@pytest.mark.skipif(not DATA.is_dir(), reason=f"no {DATA}")
def test_every_judged_article_is_in_the_set() -> None:
    known = set(article_keys(DATA).values())
    judged = {doc for q in read_queries(QUERIES) for doc in q.judged}
    assert judged <= known, sorted(judged - known)


def test_a_malformed_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("# comment\nq1\ten\tsome words\tfr/1=high\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad judgment"):
        read_queries(path)
    path.write_text("q1\ten\tonly three columns\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="4 tab-separated"):
        read_queries(path)


def test_scores_per_direction_and_floors() -> None:
    queries = [
        CrossQuery("a", "en", "x", {"fr/1": 2, "fr/2": 1}),
        CrossQuery("b", "en", "y", {"ru/9": 2}),
    ]
    runs = {"good": {"a": ["fr/1", "fr/2"], "b": ["ru/5", "ru/9"]}, "none": {"a": [], "b": []}}
    report = CrosslangReport(scores=score_runs(runs, queries, {"good": 10.0}))
    every = report.get("good", "en")
    assert every is not None and every.queries == 2
    assert every.mrr_at_10 == pytest.approx((1.0 + 0.5) / 2)
    assert every.hit_at_10 == 1.0 and every.queries_per_second == 10.0
    french = report.get("good", "en>fr")
    assert french is not None and french.ndcg_at_10 == pytest.approx(1.0)
    assert report.get("good", "fr>ru") is None  # no such query: no line
    assert check_floors(report, {"good|en|mrr_at_10": 0.7}) == []
    failures = check_floors(report, {"none|en|mrr_at_10": 0.1, "good|ru>fr|mrr_at_10": 0.1})
    assert len(failures) == 2 and "missing" in failures[1]


def test_the_ranking_line_gives_quality_and_speed_beside_bm25() -> None:
    from sourcebook.crosslang_eval import CrosslangReport, CrosslangScores, summary_line

    report = CrosslangReport(
        scores=[
            CrosslangScores("bm25", "en", 50, 0.478, 0.405, 0.6, 250.0),
            CrosslangScores("crosslang w=1.0", "en", 50, 0.987, 0.957, 1.0, 61.0),
        ]
    )
    line = summary_line(report)
    assert "MRR@10 0.987 vs BM25 0.478 (x2.1)" in line and "nDCG@10 0.957 vs 0.405" in line
    assert "61.0 q/s (16.4 ms a query) vs 250.0 q/s (4.0 ms a query)" in line
    assert summary_line(CrosslangReport()) == "crosslang: no English queries"
