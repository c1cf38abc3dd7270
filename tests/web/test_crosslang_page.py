"""The cross-language option on the search page and in the API (an archive without vectors).

What the option does to a ranking is tested in tests/search/test_crosslang.py with the real
multilingual model; here: the parameter is read, carried in URLs, shown as a checkbox only when
it means something, and a search asking for it where it cannot run says so.
"""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from sourcebook.search.crosslang import UNAVAILABLE_NOTICE
from sourcebook.web.search_params import SearchParams
from tests.web.client import Client


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=x", None),
        ("q=x&crosslang=on", True),
        ("q=x&crosslang=off", False),
        ("q=x&crosslang=off&crosslang=on", True),  # the form: hidden off, then the checked box
        ("q=x&crosslang=true", True),
        ("q=x&crosslang=0", False),
        ("q=x&crosslang=maybe", None),
    ],
)
def test_the_parameter_is_read_leniently(query: str, expected: bool | None) -> None:
    params = SearchParams.from_query(QueryParams(query))
    assert params.crosslang is expected
    assert params.to_request().crosslang is expected
    if expected is not None:  # carried in the page's links, never as a hidden form field
        assert ("crosslang", "on" if expected else "off") in params.pairs()
        assert all(name != "crosslang" for name, _ in params.hidden_fields())


def test_api_says_when_cross_language_search_is_not_available(site: Client) -> None:
    asked = site.get("/api/search", params={"q": "Rahmon", "crosslang": "true"}).json()
    assert asked["ranking"] == "bm25" and UNAVAILABLE_NOTICE in asked["notices"]
    assert asked["total"] == 1
    off = site.get("/api/search", params={"q": "Rahmon", "crosslang": "false"}).json()
    assert UNAVAILABLE_NOTICE not in off["notices"] and off["total"] == 1
    default = site.get("/api/search", params={"q": "Rahmon"}).json()
    assert UNAVAILABLE_NOTICE not in default["notices"]
    bad = site.get("/api/search", params={"q": "Rahmon", "crosslang": "maybe"})
    assert bad.status_code in (400, 422)


def test_page_checkbox_follows_the_parameter(site: Client) -> None:
    plain = site.get("/search", params={"q": "Rahmon"}).text
    assert 'name="crosslang"' not in plain  # no multilingual vectors: nothing to choose
    asked = site.get("/search", params={"q": "Rahmon", "crosslang": "on"}).text
    assert 'id="crosslang" name="crosslang" value="on" checked' in asked
    assert 'type="hidden" name="crosslang" value="off"' in asked
    assert "cross-language search is not available here" in asked
    off = site.get("/search", params={"q": "Rahmon", "crosslang": "off"}).text
    assert 'id="crosslang" name="crosslang" value="on">' in off
    assert "cross-language search is not available here" not in off
