"""Query cost limits, the time budget, the memory ceiling and honest reinterpretation notices,
on real archives (SQLite + Tantivy) built here."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcebook.config import Settings
from sourcebook.errors import QuerySyntaxError, SearchTimeout
from sourcebook.ingest.report import IngestOptions
from sourcebook.model import Document
from sourcebook.search.budget import SearchBudget
from sourcebook.search.engine import RELAXED_NOTICE
from sourcebook.search.limits import QueryLimits, check_query, query_cost
from sourcebook.search.query import parse_query
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive
from tests.web.client import build_archive, open_client

DOCS = [
    Document(
        source_key="t:tj",
        source_id="tj",
        title="Putin and Rahmon agree to bolster Tajik-Afghan border security",
        body="Russian President Vladimir Putin said he agreed with Tajikistan's president to "
        "bolster security along the Tajik-Afghan border. The border is long and the border "
        "guards say the border is porous.",
        publication_date=date(2017, 2, 27),
        countries=["TJ", "AF"],
        language="en",
    ),
    Document(
        source_key="t:af",
        source_id="af",
        title="Afghanistan: situation of Hazaras in Kabul",
        body="Hazaras returning from Iran reported discrimination in Kabul and Herat. Oil prices "
        "and oil supplies rose; oil oil oil was the word of the week.",
        publication_date=date(2021, 9, 15),
        countries=["AF", "IR"],
        language="en",
    ),
    Document(
        source_key="t:fr",
        source_id="fr",
        title="Frontières du Tadjikistan",
        body="Les frontières du Tadjikistan avec l'Afghanistan restent fermées.",
        publication_date=date(2018, 3, 1),
        countries=["TJ"],
        language="fr",
    ),
]

#: One story where "the" is every third word: phrases repeating "the" with ~N cost seconds.
DENSE = Document(
    source_key="t:dense",
    source_id="dense",
    title="Dense",
    body=" ".join("the report said the army and the police" for _ in range(100)),
    language="en",
)

OIL18 = '"' + " ".join(["oil"] * 18) + '"~100'  # the query that took the server down


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with Archive(Settings(home=tmp_path_factory.mktemp("limits"))) as arch:
        arch.add_documents([Document(**vars(d)) for d in DOCS], IngestOptions(enrich=False))
        yield arch


def search(archive: Archive, query: str, mode: str = "syntax") -> list[str]:
    result = archive.search(SearchRequest(query=query, mode=mode))  # type: ignore[arg-type]
    return [archive.get(h.docid).source_id for h in result.hits]


# --- the cost model ---------------------------------------------------------------------------

REFUSED = [
    (OIL18, "repeats words 17 times", "'oil' appears 18 times"),
    ('"oil oil oil oil oil oil"~3', "repeats words 5 times", "the limit is 4"),
    ('"oils oil oiled oil oil oil"~3', "repeats words 5 times", "the limit is 4"),  # one stem
    ('"' + " ".join(f"w{i}" for i in range(70)) + '"', "the phrase has 70 words", "limit is 64"),
    (" ".join(f"ab{i}*" for i in range(11)), "11 words with * or ?", "the limit is 10"),
    ("b?r*d*e*r*", "5 wildcard characters", "the limit is 4 per word"),
    ("b?rder", "only 1 character(s) before", "needs at least 2"),
    ("title:t*x", "only 1 character(s) before", "needs at least 2"),
]


@pytest.mark.parametrize(("query", "what", "limit"), REFUSED)
def test_costly_queries_are_refused_with_the_limit_named(
    archive: Archive, query: str, what: str, limit: str
) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        archive.search(SearchRequest(query=query, mode="syntax"))
    assert what in info.value.message and limit in info.value.message


def test_the_18_repeat_phrase_is_refused_in_auto_mode_too(archive: Archive) -> None:
    with pytest.raises(QuerySyntaxError, match="repeats words"):
        archive.search(SearchRequest(query=OIL18))


def test_queries_within_the_limits_run(archive: Archive) -> None:
    assert search(archive, '"oil oil oil oil oil"~3') == ["af"]  # four repeats
    assert search(archive, '"oil oil oil oil oil oil oil oil"') == []  # no slop: no limit
    assert search(archive, "bord* Tajik*") == ["tj"]
    assert search(archive, "Haz?ra*") == ["af"]
    assert search(archive, '"border porous"~100') == ["tj"]


def test_limits_are_settings(tmp_path: Path) -> None:
    config = Settings(
        home=tmp_path,
        query_max_slop=5,
        query_max_clauses=10,
        query_max_depth=3,
        query_max_wildcards=1,
    )
    with Archive(config) as arch:
        arch.add_documents([Document(**vars(d)) for d in DOCS], IngestOptions(enrich=False))
        for query, message in [
            ('"border guards"~6', "the proximity ~6 is more than the limit of ~5"),
            # six words x 2 languages (en, fr) x 2 text fields, and the And
            ("a b c d e f", "needs 25 index clauses"),
            ("a (b OR (c -(d OR e)))", "levels deep; the limit is 3"),
            ("bord* Taj*", "2 words with * or ?; the limit is 1"),
        ]:
            with pytest.raises(QuerySyntaxError) as info:
                arch.search(SearchRequest(query=query, mode="syntax"))
            assert message in info.value.message, (query, info.value.message)
        assert arch.search(SearchRequest(query='"border guards"~5', mode="syntax")).total == 1


def test_wildcards_are_bounded_by_the_index_terms_they_may_match(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path, query_max_wildcard_terms=5)) as arch:
        arch.add_documents([Document(**vars(d)) for d in DOCS], IngestOptions(enrich=False))
        # "bo*": bolster and border, in the English title and body fields
        assert arch.search(SearchRequest(query="bo*", mode="syntax")).total == 1
        with pytest.raises(QuerySyntaxError) as info:
            arch.search(SearchRequest(query="bo* Ha*", mode="syntax"))
        assert "match 6 different words in the index; the limit is 5" in info.value.message
        assert arch.search(SearchRequest(query="title:Ha*", mode="syntax")).total == 1


def test_clauses_count_the_fan_out_over_languages_and_fields() -> None:
    node = parse_query('Kabul "border security"~2 title:Herat country:AF date:2017 bord*')
    cost = query_cost(node, ("en", "fr", "ru"))
    # And + 3 languages x (title, body) for Kabul, the phrase and the prefix + 3 for title:
    # + 1 country + 1 date
    assert cost.clauses == 1 + 6 + 6 + 3 + 1 + 1 + 6
    assert cost.wildcards == 1 and cost.depth == 2
    with pytest.raises(QuerySyntaxError, match="needs 24 index clauses"):
        check_query(node, ("en", "fr", "ru"), QueryLimits(max_clauses=23), "q")


# --- fuzz: every input is answered or refused with a message ----------------------------------

TOKENS = [
    "Kabul", "border", "oil", "the", "Tajik-Afghan", "Hazaras", "é", "Д", "2017", "0",
    "(", ")", '"', "“", "*", "?", "~", "~5", "~100", "~999", ":", "\\", "-", "+", "!",
    "AND", "OR", "NOT", "&&", "||", "TO", "..", ">=", "<",
    "title:", "body:", "country:", "country:AF", "language:fr", "date:", "date:2017",
    "date:2017-02..2018", "date:[2017 TO 2018]", "year:1987", "publisher:", "person:", "place:",
    "group:", "docid:", "type:news", "collection:x", "region:", "bord*", "b*", "Ha?ar*", "*stan",
    '"oil oil oil oil oil oil"~100', '"border security"~3', "*:*",
]  # fmt: skip


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14),
    st.lists(st.sampled_from(["", " "]), min_size=14, max_size=14),
    st.sampled_from(["syntax", "auto", "plain"]),
)
def test_fuzz_every_query_runs_or_is_refused(
    archive: Archive, tokens: list[str], gaps: list[str], mode: str
) -> None:
    query = "".join(t + g for t, g in zip(tokens, gaps, strict=False))
    try:
        result = archive.search(SearchRequest(query=query, mode=mode))  # type: ignore[arg-type]
    except QuerySyntaxError as exc:
        assert exc.message.strip(), query
        assert exc.position is None or 0 <= exc.position <= len(query)
    else:
        assert result.total >= len(result.hits)
        assert all(n.strip() for n in result.notices)


# --- the time budget --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """An archive where ``"the the the the the the"~100`` runs for about a second."""
    config = Settings(
        home=tmp_path_factory.mktemp("dense"),
        query_max_phrase_repeats=100,
        search_timeout_seconds=0.2,
        search_overdue_max=1,
    )
    with Archive(config) as arch:
        arch.add_documents([Document(**vars(DENSE))], IngestOptions(enrich=False))
        yield arch


SLOW = '"the the the the the the"~100'


def wait_overdue_done(budget: SearchBudget, seconds: float = 30.0) -> None:
    stop = time.monotonic() + seconds
    while budget.overdue and time.monotonic() < stop:
        time.sleep(0.05)
    assert budget.overdue == 0


def test_a_search_past_its_budget_is_refused_in_time(dense: Archive) -> None:
    budget = dense.engine.budget
    started = time.monotonic()
    with pytest.raises(SearchTimeout, match="this search took too long"):
        dense.search(SearchRequest(query=SLOW, mode="syntax", facets=False))
    assert time.monotonic() - started < 0.6  # the budget is 0.2 s; the search runs ~1 s
    assert budget.overdue == 1
    # while it still runs in the background, more searches are refused at once
    started = time.monotonic()
    with pytest.raises(SearchTimeout, match="still finishing searches"):
        dense.search(SearchRequest(query="army", mode="syntax"))
    assert time.monotonic() - started < 0.1
    wait_overdue_done(budget)
    # accepted again once it finished (with room for a loaded machine: the point is the refusal)
    budget.seconds = 5.0
    try:
        assert dense.search(SearchRequest(query="army", mode="syntax")).total == 1
    finally:
        budget.seconds = 0.2


def test_facets_past_the_budget_are_refused_too(dense: Archive) -> None:
    with pytest.raises(SearchTimeout):
        dense.search(SearchRequest(query=SLOW, mode="syntax"))
    wait_overdue_done(dense.engine.budget)


def test_a_budget_of_zero_runs_to_the_end(tmp_path: Path) -> None:
    config = Settings(home=tmp_path, query_max_phrase_repeats=100, search_timeout_seconds=0)
    with Archive(config) as arch:
        arch.add_documents([Document(**vars(DENSE))], IngestOptions(enrich=False))
        assert arch.search(SearchRequest(query=SLOW, mode="syntax", facets=False)).total == 1


def test_budget_passes_results_and_errors_through() -> None:
    budget = SearchBudget(5.0, 2)
    assert budget.call(budget.start(), lambda x: x * 2, 21) == 42
    with pytest.raises(ValueError, match="bad"):
        budget.call(budget.start(), _raise, ValueError("bad"))
    assert budget.overdue == 0


def test_budget_counts_overdue_calls_until_they_finish() -> None:
    budget = SearchBudget(0.05, 1)
    release = threading.Event()
    with pytest.raises(SearchTimeout):
        budget.call(budget.start(), release.wait, 10)
    assert budget.overdue == 1
    with pytest.raises(SearchTimeout, match="still finishing"):
        budget.call(budget.start(), int, "1")
    release.set()
    wait_overdue_done(budget)
    assert budget.call(budget.start(), int, "1") == 1


def test_budget_waits_for_pool_work_within_the_deadline() -> None:
    budget = SearchBudget(0.05, 2)
    release = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        assert budget.wait(pool.submit(int, "7"), budget.start()) == 7
        running = pool.submit(release.wait, 10)
        queued = [pool.submit(release.wait, 10), pool.submit(int, "1")]
        with pytest.raises(SearchTimeout, match="took too long"):
            budget.wait(running, budget.start())
        assert budget.overdue == 1
        budget.abandon(queued)  # one running, one not started (cancelled)
        assert budget.overdue == 2 and queued[1].cancelled()
        release.set()
    wait_overdue_done(budget)


def _raise(exc: Exception) -> None:
    raise exc


def test_search_timeout_is_a_503_problem_with_its_message(tmp_path: Path) -> None:
    config = build_archive(
        tmp_path, query_max_phrase_repeats=100, search_timeout_seconds=0.2, search_overdue_max=4
    )
    with Archive(config) as arch:
        arch.add_documents([Document(**vars(DENSE))], IngestOptions(enrich=False))
    with open_client(config) as site:
        response = site.get("/api/search", params={"q": SLOW, "mode": "syntax"})
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["type"] == "https://sourcebook.dev/problems/search-timeout"
        assert "this search took too long" in body["detail"]
        page = site.get("/search", params={"q": SLOW, "mode": "syntax"})
        assert page.status_code == 503 and "this search took too long" in page.text
        wait_overdue_done(site.app.state.archive.engine.budget)


# --- the memory ceiling -----------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_DATA is enforced on Linux")
def test_memory_ceiling_turns_a_big_allocation_into_memory_error() -> None:
    code = (
        "from sourcebook.memory_limit import apply_memory_ceiling\n"
        "import resource\n"
        "assert apply_memory_ceiling(300) == 300 * 1024 * 1024\n"
        "assert resource.getrlimit(resource.RLIMIT_DATA)[0] == 300 * 1024 * 1024\n"
        "try:\n"
        "    bytearray(600 * 1024 * 1024)\n"
        "except MemoryError:\n"
        "    print('refused')\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": src},
        check=True,
    )
    assert out.stdout.strip() == "refused"


# --- honest reinterpretation ------------------------------------------------------------------

PLAIN_NOTICES = [
    ('"border security', "searched as plain words: border security (this quote is never closed)"),
    ("region:Kabul", "searched as plain words: region kabul (unknown field 'region'"),
    ("Kabul OR", "searched as plain words: kabul (OR has nothing on its right)"),
    ("*stan", "searched as plain words: stan (a word cannot start with * or ?"),
    ("Kabul (", "searched as plain words: kabul (the query ends with an opening parenthesis"),
]


@pytest.mark.parametrize(("query", "notice"), PLAIN_NOTICES)
def test_auto_mode_says_when_syntax_is_read_as_plain_words(
    archive: Archive, query: str, notice: str
) -> None:
    result = archive.search(SearchRequest(query=query))
    assert any(n.startswith(notice) for n in result.notices), result.notices
    assert all("\n" not in n for n in result.notices)


def test_auto_mode_says_when_all_words_are_relaxed_to_any(archive: Archive) -> None:
    result = archive.search(SearchRequest(query="Hazaras Dushanbe"))
    assert result.total == 1 and result.notices == [RELAXED_NOTICE]
    assert archive.search(SearchRequest(query="Hazaras Kabul")).notices == []


@pytest.mark.parametrize(
    "query", ["Kabul Herat", "What is the situation of Hazaras?", "border guards porous"]
)
def test_no_notice_when_nothing_was_reinterpreted(archive: Archive, query: str) -> None:
    assert archive.search(SearchRequest(query=query)).notices == []


def test_notices_reach_the_api_and_the_page(tmp_path: Path) -> None:
    with open_client(build_archive(tmp_path)) as site:
        data = site.get("/api/search", params={"q": "Kabul OR"}).json()
        assert data["notices"][0].startswith("searched as plain words: kabul")
        data = site.get("/api/search", params={"q": "Rahmon floods"}).json()
        assert data["notices"] == [RELAXED_NOTICE] and data["total"] > 1
        page = site.get("/search", params={"q": "Rahmon floods"})
        assert "no document has all the words" in page.text


def test_notices_reach_the_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sourcebook.cli import app

    config = build_archive(tmp_path)
    result = CliRunner().invoke(app, ["--archive", str(config.home), "search", "Rahmon floods"])
    assert result.exit_code == 0, result.output
    assert "no document has all the words" in result.output
