"""The command line through typer's runner, on a temporary archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcebook.cli import app
from sourcebook.enrich.embeddings import available, unavailable_reason

runner = CliRunner()

STORY = """Border security talks in Dushanbe

Russian and Tajik officials agreed to bolster security along the Tajik-Afghan border.
"""


def sb(archive: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--archive", str(archive), *args])
    return result.exit_code, result.output


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "story.txt").write_text(STORY, encoding="utf-8")
    code, out = sb(tmp_path / "archive", "ingest", str(src))
    assert code == 0, out
    assert "1 added" in out
    return tmp_path / "archive"


def test_ingest_reports_and_is_idempotent(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "ingest", str(tmp_path / "in"))
    assert code == 0
    assert "0 added" in out and "1 unchanged" in out and "docs/s" in out


def test_ingest_exits_non_zero_when_an_input_fails(archive: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    code, out = sb(archive, "ingest", str(bad), str(tmp_path / "in"))
    assert code == 1
    assert "failed" in out and "bad.bin" in out


def test_search_text_and_json(archive: Path) -> None:
    code, out = sb(archive, "search", "Tajik-Afghan border")
    assert code == 0 and "Border security talks in Dushanbe" in out
    code, out = sb(archive, "search", "Tajik-Afghan border", "--json")
    data = json.loads(out)
    assert data["total"] == 1
    hit = data["hits"][0]
    assert hit["passages"][0]["highlights"]
    assert set(data["facets"]) >= {"country", "publisher", "type", "language", "year"}


def test_search_syntax_error_is_a_message_not_a_trace(archive: Path) -> None:
    code, out = sb(archive, "search", '"border', "--mode", "syntax")
    assert code == 2
    assert "query error" in out and "Traceback" not in out


def test_show_cite_export_import_stats(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "search", "Dushanbe", "--json")
    docid = json.loads(out)["hits"][0]["docid"]
    code, out = sb(archive, "show", docid)
    assert code == 0 and "Border security talks in Dushanbe" in out
    code, out = sb(archive, "show", docid, "--json")
    assert json.loads(out)["docid"] == docid
    code, out = sb(archive, "cite", docid, "--style", "ris")
    assert code == 0 and "TI  - Border security talks in Dushanbe" in out
    code, out = sb(archive, "cite", docid, "--style", "nonsense")
    assert code == 2
    export = tmp_path / "export.jsonl"
    code, _ = sb(archive, "export", "-o", str(export))
    assert code == 0 and json.loads(export.read_text().splitlines()[0])["docid"] == docid
    code, out = sb(tmp_path / "copy", "import", str(export))
    assert code == 0, out
    code, out = sb(tmp_path / "copy", "show", docid, "--json")
    assert json.loads(out)["title"] == "Border security talks in Dushanbe"
    code, out = sb(archive, "stats", "--json")
    assert json.loads(out)["documents"] == 1


def test_show_unknown_docid(archive: Path) -> None:
    code, out = sb(archive, "show", "aaaaaaaaaa")
    assert code == 3 and "no document" in out


def test_check_and_reindex(archive: Path) -> None:
    code, out = sb(archive, "check")
    assert code == 0 and "agree" in out
    code, out = sb(archive, "reindex")
    assert code == 0 and "reindexed 1 documents" in out


def test_archive_from_environment(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCEBOOK_HOME", str(archive))
    result = runner.invoke(app, ["stats", "--json"])
    assert json.loads(result.output)["documents"] == 1


def test_eval_retrieval_on_a_tiny_collection(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Border security", "text": "Troops guard the Tajik-Afghan border."},
        {"_id": "d2", "title": "Floods", "text": "Heavy rain flooded the Kulob region."},
        {"_id": "d3", "title": "Elections", "text": "Voters went to the polls in Bishkek."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    queries = [{"_id": "q1", "text": "Who guards the border?"}, {"_id": "q2", "text": "floods"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    result = runner.invoke(app, ["eval", "retrieval", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["ndcg@10"] == 1.0 and figures["queries"] == 2 and figures["documents"] == 3


def test_enrich_needs_to_be_told_what(archive: Path) -> None:
    code, out = sb(archive, "enrich")
    assert code == 2 and "--entities" in out


def test_enrich_embeddings_with_an_unknown_model_is_a_usage_error(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCEBOOK_SEMANTIC_MODEL", "word2vec")
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 2 and "unknown embedding model" in out and "Traceback" not in out


@pytest.mark.skipif(available(), reason="the semantic extra is installed")
def test_enrich_embeddings_without_the_extra_says_what_to_install(archive: Path) -> None:
    code, out = sb(archive, "enrich", "--embeddings")
    out = " ".join(out.split())
    assert code == 2 and "pip install" in out and "sourcebook[semantic]" in out


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason=unavailable_reason() or "")
def test_enrich_embeddings_then_hybrid_search(archive: Path, tmp_path: Path) -> None:
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 0, out
    out = " ".join(out.split())
    assert ": 1 documents (1 vectors" in out and "1 of 1 documents embedded, 0 pending" in out
    code, out = sb(archive, "enrich", "--embeddings")
    assert code == 0 and ": 0 documents" in " ".join(out.split())  # nothing left to do
    code, out = sb(archive, "stats", "--json")
    assert json.loads(out)["embedded_documents"] == 1
    code, out = sb(archive, "search", "soldiers watching the frontier", "--json")
    data = json.loads(out)
    assert data["ranking"] == "hybrid" and data["hits"][0]["title"].startswith("Border security")
    code, out = sb(archive, "search", "soldiers watching the frontier")
    assert code == 0 and "hybrid" in out
    code, out = sb(archive, "search", "Tajik border", "--no-hybrid", "--json")
    assert json.loads(out)["ranking"] == "bm25"

    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Floods", "text": "Storm water inundated the city."},
        {"_id": "d2", "title": "Elections", "text": "Voters went to the polls in Bishkek."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    query = {"_id": "q1", "text": "heavy rain flooded the capital"}
    (folder / "queries.jsonl").write_text(json.dumps(query) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    cache = tmp_path / "cache"
    args = ["eval", "retrieval", str(folder), "--mode", "hybrid", "--cache", str(cache), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ndcg@10"] == 1.0
    assert any(cache.glob("*-live/manifest.json"))  # the embeddings are kept for the next run


def test_operator_export_round_trips_beside_the_original_files(
    archive: Path, tmp_path: Path
) -> None:
    """The CLI's export keeps source keys as stored (the API's hides server folders), so the
    export re-imported, and the original folder ingested again, leave one record per file."""
    export = tmp_path / "export.jsonl"
    assert sb(archive, "export", "-o", str(export))[0] == 0
    assert json.loads(export.read_text())["source_key"].startswith(f"file:{tmp_path}")
    code, out = sb(archive, "import", str(export))
    assert code == 0 and "1 unchanged" in out, out
    copy = tmp_path / "copy"
    assert sb(copy, "import", str(export))[0] == 0
    code, out = sb(copy, "ingest", str(tmp_path / "in"))
    assert code == 0 and "1 unchanged" in out, out
    assert json.loads(sb(copy, "stats", "--json")[1])["documents"] == 1
