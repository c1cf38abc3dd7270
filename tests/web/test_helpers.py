"""The web layer's small pieces: highlight slicing, URL parameters, the advanced form, streaming."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from sourcebook.config import Settings
from sourcebook.errors import QuerySyntaxError
from sourcebook.search.query import parse_query
from sourcebook.services import Archive
from sourcebook.web.advanced import AdvancedForm, build_query, literal
from sourcebook.web.runtime import STREAM_CHUNK_CHARS, Runtime
from sourcebook.web.search_params import SearchParams, parse_period, year_of
from sourcebook.web.templating import (
    highlight_segments,
    is_web_url,
    last_updated,
    snippet_segments,
)

# --- highlights ---------------------------------------------------------------------------------


def test_highlight_segments_cut_the_text_at_the_offsets() -> None:
    text = "Putin and Rahmon agree"
    assert highlight_segments(text, [(10, 16), (0, 5)]) == [
        ("Putin", True),
        (" and ", False),
        ("Rahmon", True),
        (" agree", False),
    ]
    assert highlight_segments(text, []) == [(text, False)]


@given(
    st.text(max_size=60),
    st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=6),
)
def test_highlight_segments_never_lose_or_invent_text(
    text: str, spans: list[tuple[int, int]]
) -> None:
    segments = highlight_segments(text, spans)
    assert "".join(piece for piece, _ in segments) == text
    assert all(piece for piece, _ in segments)


def test_a_long_passage_is_cut_around_its_first_match() -> None:
    text = ("word " * 200) + "Rahmon " + ("tail " * 200)
    start = text.index("Rahmon")
    segments = snippet_segments(text, [(start, start + 6)], limit=100)
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert ("Rahmon", True) in segments
    assert sum(len(p) for p, _ in segments) <= 104


def test_only_web_addresses_become_links() -> None:
    assert is_web_url("https://www.refworld.org/docid/5975a5b29.html")
    assert is_web_url("HTTP://example.org")
    for bad in ("javascript:alert(1)", "data:text/html,x", "//example.org", "ftp://x", ""):
        assert not is_web_url(bad)


def test_last_updated_reads_like_refworld() -> None:
    when = datetime(2023, 5, 17, 15, 20, tzinfo=UTC)
    assert last_updated(when) == "Wednesday, 17 May 2023, 15:20 GMT"
    assert last_updated(None) == ""


# --- URL parameters -----------------------------------------------------------------------------


def test_search_params_round_trip_through_urls() -> None:
    url = "q=border&country=TJ&country=AF&publisher=UNHCR&from=2017&to=2017-06&sort=newest&size=20&page=2"
    params = SearchParams.from_query(QueryParams(url))
    assert params.filters == {"country": ["TJ", "AF"], "publisher": ["UNHCR"]}
    assert params.url() == "/search?" + url
    request = params.to_request()
    assert request.date_from == date(2017, 1, 1) and request.date_to == date(2017, 6, 30)
    assert (request.page, request.page_size, request.sort) == (2, 20, "newest")
    assert params.with_filter("type", "news").url().endswith("&size=20")  # back to page 1
    assert params.without_filter("country", "TJ").filters["country"] == ["AF"]


def test_default_sort_is_newest_without_a_query() -> None:
    assert SearchParams().effective_sort == "newest"
    assert SearchParams(q="x").effective_sort == "relevance"
    assert SearchParams(q="x", sort="title").effective_sort == "title"


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2017", False, date(2017, 1, 1)),
        ("2017", True, date(2017, 12, 31)),
        ("2016-02", True, date(2016, 2, 29)),
        ("2017-02-27", True, date(2017, 2, 27)),
        ("", True, None),
    ],
)
def test_date_bounds(text: str, end: bool, expected: date | None) -> None:
    assert parse_period(text, "from", end) == expected


@pytest.mark.parametrize("text", ["2017-13", "2017-02-30", "17", "yesterday", "2017-1-1-1"])
def test_bad_dates_are_query_errors(text: str) -> None:
    with pytest.raises(QuerySyntaxError, match="is not a date"):
        parse_period(text, "from", end=False)


def test_year_of_a_date_filter() -> None:
    assert year_of("2017-01-01", "2017-12-31") == "2017"
    assert year_of("2017-01-01", "2018-12-31") is None
    assert year_of("", "") is None


# --- the advanced form --------------------------------------------------------------------------


def test_the_advanced_form_writes_the_query() -> None:
    form = AdvancedForm(
        all_words="Hazara returnees",
        phrase="border security",
        any_words="Kabul Herat",
        none_words="Pakistan",
        title_words="Afghanistan",
        publisher="Radio Free Europe/Radio Liberty",
    )
    assert build_query(form) == (
        'Hazara returnees "border security" (Kabul OR Herat) title:Afghanistan '
        'publisher:"Radio Free Europe/Radio Liberty" -Pakistan'
    )
    assert build_query(AdvancedForm()) == ""
    assert build_query(AdvancedForm(none_words="Taliban")) == "-Taliban"


@given(st.builds(AdvancedForm, *(st.text(max_size=30) for _ in range(6))))
def test_no_form_input_makes_a_syntax_error(form: AdvancedForm) -> None:
    query = build_query(form)
    if query:
        parse_query(query)


def test_operators_and_specials_are_made_literal() -> None:
    assert literal("OR") == '"OR"'
    assert literal('say "no"') == '"say \\"no\\""'
    assert literal("negotiat*") == "negotiat*"
    assert literal("a*") == '"a*"'
    assert literal("--") == ""


# --- streaming ----------------------------------------------------------------------------------


def test_a_stream_stops_its_producer_when_the_client_goes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "archive")
    runtime = Runtime(settings=settings, archive=Archive(settings))
    stopped = threading.Event()
    line = "x" * 1000 + "\n"

    def produce(out: IO[str]) -> None:
        try:
            for _ in range(100_000):  # 100 MB if nobody stopped it
                out.write(line)
        finally:
            stopped.set()

    async def read_two_chunks() -> list[bytes]:
        stream = runtime.stream(produce)
        chunks = [await anext(stream), await anext(stream)]
        await stream.aclose()  # what Starlette does when the client disconnects
        return chunks

    try:
        chunks = asyncio.run(read_two_chunks())
        assert all(len(c) >= STREAM_CHUNK_CHARS for c in chunks)
        assert stopped.wait(5), "the producer kept writing after the client left"
    finally:
        runtime.close()


def test_a_stream_ends_with_the_producer(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "archive")
    runtime = Runtime(settings=settings, archive=Archive(settings))

    async def read_all() -> bytes:
        return b"".join([chunk async for chunk in runtime.stream(lambda out: out.write("é\n"))])

    try:
        assert asyncio.run(read_all()) == "é\n".encode()
    finally:
        runtime.close()
