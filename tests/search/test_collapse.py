"""Near-duplicate collapsing on a real archive: only reprints join, nothing is hidden silently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.ids import group_name
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

REPORT = (
    "Conscripts in national service were held for years beyond the legal eighteen months, "
    "and security forces detained critics, journalists and members of unregistered religious "
    "groups without charge. Families of deserters who fled the military were fined and their "
    "businesses were closed. The government did not permit independent human rights "
    "organisations to operate, and there were no independent media in the country."
)
STORY = (
    "ASMARA, April 3 - Officials said on Monday that the border with Ethiopia near Zalambessa "
    "would stay open for traders, and that talks on the port of Assab would resume next month. "
    "Aid agencies welcomed the decision and said families had waited for weeks at the crossing."
)


def report(key: str, year: int, body: str) -> Document:
    return Document(
        source_key=f"hrr:{key}",
        title=f"Eritrea {year} Human Rights Report",
        body=body,
        publication_date=date(year + 1, 4, 1),
        countries=["ER"],
        language="en",
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with Archive(Settings(home=tmp_path_factory.mktemp("collapse"))) as arch:
        arch.add_documents(
            [
                report("2023", 2023, REPORT),
                report("2024", 2024, REPORT + " There were no significant changes."),
                Document(source_key="wire:1", title="Border stays open", body=STORY),
            ]
        )
        arch.add_documents(
            [  # two reprints of the wire story: a new headline case, a footer
                Document(source_key="wire:2", title="BORDER STAYS OPEN", body=STORY),
                Document(
                    source_key="wire:3",
                    title="Border stays open",
                    body=f"{STORY}\n\nCopyright. All rights reserved.",
                ),
            ]
        )
        yield arch


def docid(archive: Archive, key: str) -> str:
    return next(d.docid for d in archive.store.iter_documents() if d.source_key == key)


def test_a_new_annual_edition_is_not_grouped(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="national service", countries=["ER"]))
    assert result.total == 2 and result.collapsed == 0
    assert {h.docid for h in result.hits} == {
        docid(archive, "hrr:2023"),
        docid(archive, "hrr:2024"),
    }
    assert all(h.similar == 0 for h in result.hits)


def test_reprints_collapse_and_the_total_counts_what_is_listed(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="border Assab"))
    original = docid(archive, "wire:1")
    assert [h.docid for h in result.hits] == [original]
    assert result.total == len(result.hits) == 1
    assert result.collapsed == 2 and result.hits[0].similar == 2
    # the group lists all three
    group = archive.search(SearchRequest(query=f"group:{original}"))
    assert group.total == 3 and len(group.hits) == 3 and group.collapsed == 0
    # the group is named by a hash of its first member's docid, never by the docid itself
    name = result.hits[0].dup_group
    assert name == group_name(original) != original
    assert {h.dup_group for h in group.hits} == {name}
    assert archive.search(SearchRequest(query=f"group:{name}")).total == 3
    # group:DOCID of any member (not only the first) lists the whole group
    reprint = next(h.docid for h in group.hits if h.docid != original)
    assert archive.search(SearchRequest(query=f"group:{reprint}")).total == 3


def test_every_page_of_a_collapsed_search_agrees_with_its_total(archive: Archive) -> None:
    request = SearchRequest(query="the", mode="syntax", page_size=2)
    first = archive.search(request)
    listed = list(first.hits)
    page = 2
    while len(listed) < first.total:
        more = archive.search(SearchRequest(query="the", mode="syntax", page_size=2, page=page))
        assert more.hits, f"page {page} is empty though the total says {first.total}"
        listed += more.hits
        page += 1
    assert len(listed) == first.total == 3
    assert first.total + first.collapsed == 5
    flat = archive.search(SearchRequest(query="the", mode="syntax", collapse=False))
    assert flat.total == 5 and flat.collapsed == 0


def test_the_atom_feed_delivers_every_match_it_announces(archive: Archive) -> None:
    from tests.web.test_atom import get, make_app, parse

    (response,) = get(make_app(archive), ("/search.atom?q=border+Assab", {}))
    feed = parse(response)
    assert int(feed.feed.opensearch_totalresults) == len(feed.entries) == 3


@pytest.fixture(scope="module")
def reprinted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive home holding a story and two reprints of it (closed: the app opens it)."""
    home = tmp_path_factory.mktemp("reprinted")
    with Archive(Settings(home=home)) as arch:
        arch.add_documents([Document(source_key="wire:1", title="Border stays open", body=STORY)])
        arch.add_documents(
            [
                Document(source_key="wire:2", title="BORDER STAYS OPEN", body=STORY),
                Document(source_key="wire:3", title="Border", body=f"{STORY}\n\nReuter"),
            ]
        )
    return home


def test_page_api_and_cli_say_how_many_similar_and_link_them(reprinted: Path) -> None:
    from typer.testing import CliRunner

    from sourcebook.cli import app
    from tests.web.client import open_client
    from tests.web.markup import by_class

    with open_client(Settings(home=reprinted)) as site:
        page = site.get("/search", params={"q": "border Assab"}).text
        (link,) = by_class(page, "hit__similar")
        assert link.text.strip() == "2 similar"
        assert "(and 2 similar" in page
        listed = site.get(link.attrs["href"]).text  # the group: all three
        assert len(by_class(listed, "hit")) == 3
        data = site.get("/api/search", params={"q": "border Assab"}).json()
        assert data["total"] == len(data["hits"]) == 1 and data["collapsed"] == 2
        hit = data["hits"][0]
        assert hit["similar"] == 2 and hit["similar_query"] == f"group:{hit['dup_group']}"
    out = CliRunner().invoke(app, ["--archive", str(reprinted), "search", "border Assab"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())  # as read, whatever the terminal's width
    assert "1 document for border Assab" in text and "(and 2 similar" in text
    assert f"(+2 similar: sourcebook search 'group:{hit['dup_group']}')" in text


def test_similar_documents_leave_out_empty_records_and_reprints(tmp_path: Path) -> None:
    other = (
        "ASMARA, April 9 - Traders said the crossing near Zalambessa on the border with "
        "Ethiopia was busy again, with lorries carrying grain and fuel waiting for a day, and "
        "that officials checked papers of returnees from Sudan at the border post."
    )
    with Archive(Settings(home=tmp_path)) as arch:
        arch.add_documents([Document(source_key="w:1", title="Border stays open", body=STORY)])
        arch.add_documents(
            [
                Document(source_key="w:2", title="BORDER STAYS OPEN", body=STORY),  # a reprint
                Document(source_key="w:3", title="Border crossing busy", body=other),
                Document(source_key="w:4", title="Border stays open Assab Zalambessa", body=""),
                Document(source_key="w:5", title="Border", body="Border open, Assab, Ethiopia."),
            ]
        )
        ids = {d.source_key: d.docid for d in arch.store.iter_documents()}
        similar = [h.docid for h in arch.similar(ids["w:1"])]
        assert similar == [ids["w:3"]]


def test_enrich_dedup_regroups_an_archive_grouped_by_the_old_rule(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sourcebook.cli import app
    from sourcebook.enrich.dedup import minhash_signature

    home = tmp_path / "old"
    with Archive(Settings(home=home)) as arch:
        arch.add_documents([report("2023", 2023, REPORT), report("2024", 2024, REPORT)])
        ids = {d.source_key: d.docid for d in arch.store.iter_documents()}
        # as version 1 left it: the 2024 edition in the 2023 edition's group, bare signatures
        old = [
            (ids["hrr:2023"], ids["hrr:2023"], minhash_signature(REPORT).tobytes()),
            (ids["hrr:2024"], ids["hrr:2023"], minhash_signature(REPORT).tobytes()),
        ]
        arch.store.set_dup_groups(old)
        arch.reindex()
        assert arch.search(SearchRequest(query="conscripts")).total == 1
    out = CliRunner().invoke(app, ["--archive", str(home), "enrich", "--dedup"])
    assert out.exit_code == 0, out.output
    assert "1 changed group" in " ".join(out.output.split())
    with Archive(Settings(home=home)) as arch:
        result = arch.search(SearchRequest(query="conscripts"))
        assert result.total == 2 and result.collapsed == 0
        groups = {d.docid: d.dup_group for d in arch.store.iter_documents()}
        assert groups[ids["hrr:2024"]] == ids["hrr:2024"]
        # ingest after the regrouping uses the new fingerprints
        arch.add_documents([report("2024b", 2024, REPORT + " Reuter")])
        again = {d.source_key: d.dup_group for d in arch.store.iter_documents()}
        assert again["hrr:2024b"] == ids["hrr:2024"]


def test_the_record_page_links_its_reprints(reprinted: Path) -> None:
    from tests.web.client import open_client
    from tests.web.markup import by_class

    with open_client(Settings(home=reprinted)) as site:
        data = site.get("/api/search", params={"q": "border Assab"}).json()
        page = site.get(f"/record/{data['hits'][0]['docid']}").text
        (note,) = by_class(page, "similar__reprints")
        assert " ".join(note.text.split()) == "2 reprints of this text"
        assert "group%3A" in page


def test_totals_beyond_the_collapsing_window_count_the_folded_matches(tmp_path: Path) -> None:
    # 80 different bulletins (their numbers differ) and 2 reprints each of the first 10:
    # a page of 5 reads a window of 35 hits, far fewer than the 100 matches
    def bulletin(n: int) -> str:
        return (
            f"Bulletin {n}: officials counted {n * 7 + 3} returnees at the crossing of "
            f"Zalambessa on day {n}, with {n * 11 + 5} families waiting and {n + 2} lorries "
            "of grain delayed at the border post while talks on the port went on."
        )

    with Archive(Settings(home=tmp_path)) as arch:
        arch.add_documents(
            [
                Document(source_key=f"b:{n}", title=f"Bulletin {n}", body=bulletin(n))
                for n in range(80)
            ]
        )
        arch.add_documents(
            [
                Document(source_key=f"r:{n}:{k}", title=f"BULLETIN {n}", body=bulletin(n))
                for n in range(10)
                for k in range(2)
            ]
        )
        result = arch.search(SearchRequest(query="Zalambessa", page_size=5))
        assert result.total + result.collapsed == 100
        assert result.total == 80 and result.collapsed == 20
        last = arch.search(SearchRequest(query="Zalambessa", page_size=5, page=16))
        assert len(last.hits) == 5 and last.total == 80
