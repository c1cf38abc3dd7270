"""The embedding job on real archives: what it plans, resuming, updates, deletions, the lock.

Most tests embed with a small bag-of-words embedder (fast, no torch); the last runs the real
all-MiniLM-L6-v2 model (slow; skipped without the ``sourcebook[semantic]`` extra).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.enrich.embedding_job import plan_embeddings
from sourcebook.enrich.embeddings import available, unavailable_reason, unit_tag
from sourcebook.errors import ConfigError, Conflict
from sourcebook.index.vectors import VectorIndex, writer_lock
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from tests.enrich.test_embeddings import ToyEmbedder


def story(n: int, body: str = "") -> Document:
    return Document(
        source_key=f"test:s{n}",
        source_id=f"s{n}",
        title=f"Story {n}",
        body=body or f"Paragraph one of story {n}.\n\nParagraph two about floods {n}.",
        language="en",
    )


class Interrupted(Exception):
    """Stands for Ctrl+C in the middle of a run."""


def test_plan_compares_the_store_with_the_saved_tags() -> None:
    saved = {
        "cur": unit_tag("h1", 1),
        "old": unit_tag("h0", 1),  # content changed since
        "gone": unit_tag("h9", 1),  # no longer in the store
        "part#0": unit_tag("h3", 2),  # a passage document that a stopped run half embedded
        "kind#0": unit_tag("h4", 1),  # a passage vector, but the unit is now "document"
        "bare": "",  # saved without a tag: cannot be trusted
    }
    stored = [("cur", "h1"), ("old", "h2"), ("new", "h5"), ("kind", "h4"), ("bare", "h6")]
    plan = plan_embeddings(stored, saved, "document")
    assert plan.current == 1 and plan.deleted == 2  # "gone", and "part" is not in the store
    assert plan.pending == ["old", "new", "kind", "bare"]
    assert sorted(plan.remove) == ["bare", "gone", "kind#0", "old", "part#0"]
    assert plan.changed == {"old", "kind", "bare"}

    passages = plan_embeddings([("part", "h3")], {"part#0": unit_tag("h3", 2)}, "passage")
    assert passages.pending == ["part"] and passages.remove == [] and not passages.changed
    done = {"part#0": unit_tag("h3", 2), "part#1": unit_tag("h3", 2)}
    assert plan_embeddings([("part", "h3")], done, "passage").current == 1


@pytest.fixture
def toy_archive(tmp_path: Path) -> Iterator[tuple[Archive, ToyEmbedder]]:
    embedder = ToyEmbedder()
    with Archive(Settings(home=tmp_path / "archive"), embedder=embedder) as archive:
        archive.add_documents([story(n) for n in range(5)], IngestOptions(enrich=False))
        yield archive, embedder


def test_an_interrupted_run_resumes_where_it_stopped(
    toy_archive: tuple[Archive, ToyEmbedder],
) -> None:
    archive, embedder = toy_archive

    def stop(_advance: int, _done: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        archive.enrich_embeddings(chunk=2, progress=stop)
    assert embedder.embedded == 2  # one chunk embedded and saved before the stop
    assert archive.embedding_status().embedded == 2
    seen: list[tuple[int, int]] = []
    report = archive.enrich_embeddings(chunk=2, progress=lambda k, n: seen.append((k, n)))
    assert report.documents == 3 and embedder.embedded == 5  # nothing embedded twice
    assert report.embedded == report.total == 5 and report.pending == 0
    assert seen == [(2, 2), (1, 3)]


def test_new_changed_and_deleted_documents(toy_archive: tuple[Archive, ToyEmbedder]) -> None:
    archive, embedder = toy_archive
    archive.enrich_embeddings()
    assert embedder.embedded == 5 and archive.stats()["embedded_documents"] == 5

    archive.add_documents([story(5)])
    again = archive.enrich_embeddings()
    assert (again.documents, again.changed, embedder.embedded) == (1, 0, 6)

    archive.add_documents([story(2, "A new text about elections.")])
    docid = archive.search(SearchRequest(query="elections")).hits[0].docid
    assert archive.embedding_status().embedded == 5  # the changed one is outdated
    changed = archive.enrich_embeddings()
    assert (changed.documents, changed.changed, embedder.embedded) == (1, 1, 7)
    vectors = VectorIndex.load(archive.settings.vectors_path)
    probe = embedder.embed_queries(["A new text about elections."])[0]
    assert vectors.search(probe, 1)[0][0] == docid

    archive.store.delete(docid)
    archive.index.delete([docid])
    archive.index.commit()
    deleted = archive.enrich_embeddings()
    assert (deleted.documents, deleted.removed, embedder.embedded) == (0, 1, 7)
    assert not VectorIndex.load(archive.settings.vectors_path).has(docid)
    assert deleted.embedded == deleted.total == 5
    assert archive.enrich_embeddings().documents == 0  # nothing left to do


def test_changing_the_unit_replaces_the_vectors(tmp_path: Path) -> None:
    embedder = ToyEmbedder()
    home = tmp_path / "archive"
    with Archive(Settings(home=home, passage_target_chars=30), embedder=embedder) as archive:
        archive.add_documents([story(n) for n in range(3)])
        archive.enrich_embeddings()
    with Archive(Settings(home=home, semantic_unit="passage"), embedder=embedder) as archive:
        assert archive.embedding_status().embedded == 0
        report = archive.enrich_embeddings()
        assert report.changed == 3 and report.vectors == 6  # two passages each
        ids = VectorIndex.load(archive.settings.vectors_path).ids()
        assert len(ids) == 6 and all("#" in i for i in ids)
        result = archive.search(SearchRequest(query="floods"))
        assert result.ranking == "hybrid" and len(result.hits) == 3


def test_many_small_saves_are_compacted(
    toy_archive: tuple[Archive, ToyEmbedder], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, _embedder = toy_archive
    monkeypatch.setattr("sourcebook.enrich.embedding_job.COMPACT_SEGMENTS", 3)
    assert archive.enrich_embeddings(chunk=1).documents == 5
    index = VectorIndex.load(archive.settings.vectors_path)
    assert index.segments == 1 and len(index) == 5
    assert set(index.entries().values()) == {unit_tag(h, 1) for _, h in stored(archive)}


def stored(archive: Archive) -> list[tuple[str, str]]:
    return [(e.docid, e.content_hash) for e in archive.store.iter_index_entries()]


def test_one_writer_at_a_time(toy_archive: tuple[Archive, ToyEmbedder]) -> None:
    archive, _embedder = toy_archive
    with writer_lock(archive.settings.vectors_path), pytest.raises(Conflict):
        archive.enrich_embeddings()
    assert archive.enrich_embeddings().documents == 5  # the lock is free again


def test_an_unknown_model_is_a_config_error(tmp_path: Path) -> None:
    with (
        Archive(Settings(home=tmp_path / "a", semantic_model="word2vec")) as archive,
        pytest.raises(ConfigError, match="unknown embedding model"),
    ):
        archive.enrich_embeddings()


@pytest.mark.skipif(available(), reason="the semantic extra is installed")
def test_without_the_extra_the_job_says_what_to_install(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "a")) as archive, pytest.raises(ConfigError) as info:
        archive.enrich_embeddings()
    assert "pip install" in str(info.value) and "sourcebook[semantic]" in str(info.value)


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason=unavailable_reason() or "")
def test_the_job_with_minilm(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        archive.add_documents([story(n) for n in range(3)])
        first = archive.enrich_embeddings()
        assert (first.model, first.documents, first.vectors) == ("all-MiniLM-L6-v2", 3, 3)
        archive.add_documents([story(3)])
        assert archive.enrich_embeddings().documents == 1  # only the new one
        archive.add_documents([story(0, "Storm water inundated the city overnight.")])
        changed = archive.enrich_embeddings()
        assert (changed.documents, changed.changed) == (1, 1)
        hit = archive.search(SearchRequest(query="heavy rain flooded the capital")).hits[0]
        assert hit.source_id == "s0"  # found by its new text, in other words
        archive.store.delete(hit.docid)
        deleted = archive.enrich_embeddings()
        assert (deleted.documents, deleted.removed, deleted.embedded) == (0, 1, 3)
