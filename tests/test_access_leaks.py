"""Nothing restricted is revealed, through any read path, counts included (docs/security.md).

Hypothesis builds random archives whose documents sit in public, internal and restricted
collections (and none) and share their words, some of them reprints of one another across
collections; then, for random viewers and queries, every read path of the viewer's
``ArchiveView`` must say exactly what the operator of an archive holding only the documents that
viewer may read says: the same hits, totals, folded reprints, "N similar", facet counts,
statistics, exports, harvests and set counts, and "not found" for every hidden docid. The two
archives are real (SQLite and Tantivy; PostgreSQL and Tantivy), built by ingest.

The default suite runs a few examples per store; ``-m slow`` runs 200 per store (CI).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcebook.access import CollectionPolicy
from sourcebook.config import Settings
from sourcebook.errors import NotFound
from sourcebook.model import Document
from sourcebook.records import document_to_json
from sourcebook.search.request import FACETS, SearchRequest
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.reading import ArchiveView
from sourcebook.store.base import HarvestFilter
from sourcebook.viewer import Viewer
from tests.store.conftest import base_url, require_postgres, url_with_schema

WORDS = ["ferry", "border", "drought", "militia", "court", "ballot", "harbour", "clinic"]
COLLECTIONS = ["open", "staff", "legal", "press", ""]
#: staff: internal; legal: restricted to group "lawyers"; press: restricted to "press", "ngo"
POLICIES = [
    CollectionPolicy("staff", "internal"),
    CollectionPolicy("legal", "restricted", ("lawyers",)),
    CollectionPolicy("press", "restricted", ("press", "ngo")),
]
GROUPS = ["lawyers", "press", "ngo", "other"]


@dataclass(frozen=True)
class Spec:
    words: tuple[str, ...]
    collection: str
    country: str
    #: when >= 0: a reprint of the document at that index (same text, another source)
    reprint_of: int


def visible(collection: str, viewer: Viewer, anonymous_access: str) -> bool:
    """The rules of docs/security.md, written out independently of sourcebook.access."""
    if viewer.operator or viewer.role == "admin":
        return True
    if not viewer.user:
        return anonymous_access == "public" and collection in ("open", "")
    if collection in ("open", "", "staff"):
        return True
    allowed = {"legal": {"lawyers"}, "press": {"press", "ngo"}}[collection]
    return bool(allowed & viewer.groups)


specs = st.lists(
    st.builds(
        Spec,
        words=st.lists(st.sampled_from(WORDS), min_size=3, max_size=12).map(tuple),
        collection=st.sampled_from(COLLECTIONS),
        country=st.sampled_from(["Tajikistan", "Somalia", "Peru"]),
        reprint_of=st.integers(min_value=-3, max_value=5),
    ),
    min_size=1,
    max_size=9,
)
viewers = st.one_of(
    st.just(Viewer.anonymous()),
    st.builds(
        Viewer,
        user=st.just("ana"),
        role=st.sampled_from(["reader", "editor", "admin"]),
        groups=st.frozensets(st.sampled_from(GROUPS), max_size=2),
    ),
)
queries = st.one_of(
    st.just(""),
    st.sampled_from(WORDS),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda a, b: f"{a} OR {b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda n: f"group:#{n}", st.integers(min_value=0, max_value=8)),
)


def documents(items: list[Spec]) -> list[Document]:
    docs: list[Document] = []
    for i, spec in enumerate(items):
        source = items[spec.reprint_of] if 0 <= spec.reprint_of < i else spec
        text = " ".join(source.words)
        body = (
            f"A report on the {text} situation in {source.country}.\n\n"
            f"Witnesses described the {text} in detail; the {source.words[0]} was discussed."
        )
        docs.append(
            Document(
                source_key=f"leak:{i}",
                title=f"{source.words[0].title()} in {source.country}",
                publisher=f"Publisher {i % 3}",
                body=body,
                document_type="report",
                collection=spec.collection,
            )
        )
    return docs


@contextmanager
def database(backend: str) -> Iterator[str]:
    """ "" for SQLite; else a PostgreSQL URL on a new schema, dropped afterwards."""
    if backend == "sqlite":
        yield ""
        return
    import psycopg

    schema = f"sbleak_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield url_with_schema(schema)
    finally:
        with psycopg.connect(base_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def archive(home: Path, url: str, docs: list[Document], anonymous_access: str) -> Iterator[Archive]:
    settings = Settings(
        home=home,
        database_url=url,
        anonymous_access=anonymous_access,  # type: ignore[arg-type]
        parse_sandbox=False,
        follow_seconds=0,
    )
    with Archive(settings) as made:
        if docs:  # in order, in one batch: a reprint finds its original earlier in the batch
            made.add_documents(docs, IngestOptions(detect_language=False))
        for policy in POLICIES:
            made.set_collection(policy)
        yield made


def resolve(query: str, docids: list[str]) -> str:
    if query.startswith("group:#"):
        n = int(query[len("group:#") :])
        return f"group:{docids[n % len(docids)]}"
    return query


def search_figures(view: ArchiveView, query: str) -> dict[str, object]:
    result = view.search(SearchRequest(query=query, page_size=50, exact_facets=True))
    return {
        "hits": sorted((h.docid, h.similar) for h in result.hits),
        "total": result.total,
        "collapsed": result.collapsed,
        "facets": {
            name: sorted((v.value, v.count) for v in result.facets.get(name, [])) for name in FACETS
        },
    }


def stats_figures(view: ArchiveView) -> dict[str, object]:
    figures = view.stats()
    names = ("documents", "passages", "revisions", "body_chars", "by_collection", "by_language")
    names += ("by_type", "top_countries", "top_publishers")
    return {name: figures[name] for name in names}


def export_docids(view: ArchiveView) -> list[str]:
    out = io.StringIO()
    view.export_jsonl(out)
    return sorted(json.loads(line)["docid"] for line in out.getvalue().splitlines())


def check_no_leak(backend: str, items: list[Spec], viewer: Viewer, anonymous: str, q: str) -> None:
    docs = documents(items)
    shown = [d for d in docs if visible(d.collection, viewer, anonymous)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(backend) as full_url,
        database(backend) as part_url,
        archive(Path(tmp) / "full", full_url, docs, anonymous) as full,
        archive(Path(tmp) / "part", part_url, shown, anonymous) as part,
    ):
        seen = full.view(viewer)
        truth = part.view(Viewer.system())
        all_ids = [d.docid for d in full.store.iter_documents()]
        shown_ids = {d.docid for d in part.store.iter_documents()}
        query = resolve(q, all_ids)
        assert search_figures(seen, query) == search_figures(truth, query), query
        hidden = set(all_ids) - shown_ids
        named = {h.dup_group for h in seen.search(SearchRequest(query=query, page_size=50)).hits}
        assert not named & hidden  # a group is named by a hash, never by a hidden original's docid
        for facet in FACETS:
            assert seen.browse(facet) == truth.browse(facet)
        assert stats_figures(seen) == stats_figures(truth)
        assert seen.count() == truth.count() == len(shown_ids)
        assert export_docids(seen) == export_docids(truth)
        every = HarvestFilter()
        assert [r.document.docid for r in seen.harvest(every)] == [
            r.document.docid for r in truth.harvest(every)
        ]
        assert seen.harvest_count(every) == len(shown_ids)
        assert seen.harvest_sets() == truth.harvest_sets()
        assert set(seen.harvest_records(all_ids)) == shown_ids
        for docid in all_ids:
            if docid in shown_ids:
                assert seen.get(docid).docid == docid
                assert seen.cite(docid, "refworld")
                assert {h.docid for h in seen.similar(docid)} <= shown_ids
                assert document_to_json(seen.get(docid))["dup_group"] not in hidden
                continue
            for read in (seen.get, lambda d: seen.cite(d, "bibtex"), seen.similar):
                with pytest.raises(NotFound):
                    read(docid)
            group = seen.search(SearchRequest(query=f"group:{docid}"))
            assert group.total == 0 and not group.hits  # the group of a document one may not read


EXAMPLES = int(os.environ.get("SOURCEBOOK_LEAK_EXAMPLES", "6"))


def _leak_test(backend: str, examples: int) -> None:
    if backend == "postgres":
        require_postgres()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(items=specs, viewer=viewers, anonymous=st.sampled_from(["public", "none"]), q=queries)
    def run(items: list[Spec], viewer: Viewer, anonymous: str, q: str) -> None:
        check_no_leak(backend, items, viewer, anonymous, q)

    run()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_nothing_restricted_leaks(backend: str) -> None:
    _leak_test(backend, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_nothing_restricted_leaks_in_200_archives(backend: str) -> None:
    _leak_test(backend, 200)
