"""The gazetteer data file and its scanner."""

from __future__ import annotations

import gzip
import json
from importlib import resources

from sourcebook.enrich.gazetteer import gazetteer, normalise

DATA = resources.files("sourcebook.enrich").joinpath("data/gazetteer.json.gz")


def test_data_file_is_small_and_complete() -> None:
    blob = DATA.read_bytes()
    assert len(blob) < 2 * 1024 * 1024
    data = json.loads(gzip.decompress(blob))
    assert data["version"] == 1
    assert len(data["countries"]) >= 249
    kinds = {p[5] for p in data["places"]}
    assert kinds == {"capital", "city", "region"}


def test_normalise_keeps_length_and_offsets() -> None:
    for text in ("Tajik-Afghan border.", "Президент России — в Душанбе", "İstanbul’s", "a_b 😀 c"):
        out = normalise(text)
        assert len(out) == len(text)
    assert normalise("U.S.-Russian") == "u s  russian"


def test_countries_and_capitals() -> None:
    gaz = gazetteer()
    assert gaz.countries["TJ"].name == "Tajikistan"
    dushanbe = [s for s in gaz.lookup("Dushanbe") if s.kind == "place"]
    assert dushanbe and gaz.places[dushanbe[0].place].kind == "capital"


def test_names_in_several_languages() -> None:
    gaz = gazetteer()
    for name, code in (
        ("Russie", "RU"),  # French
        ("Rusia", "RU"),  # Spanish
        ("Россия", "RU"),  # Russian
        ("روسيا", "RU"),  # Arabic
        ("روسیه", "RU"),  # Persian
        ("Tadjikistan", "TJ"),
        ("Тоҷикистон", "TJ"),  # Tajik
        ("Moscou", "RU"),  # a city's French name
        ("Душанбе", "TJ"),
    ):
        assert {s.country for s in gaz.lookup(name)} == {code}, name


def test_demonyms_and_short_forms() -> None:
    gaz = gazetteer()
    for name, code in (
        ("Tajik", "TJ"),
        ("Afghan", "AF"),
        ("Syrian", "SY"),
        ("Kazakh", "KZ"),
        ("Russia", "RU"),
    ):
        assert code in {s.country for s in gaz.lookup(name)}, name


def test_scan_word_boundaries_case_and_longest_match() -> None:
    gaz = gazetteer()
    found = [(m.surface, m.start, m.end) for m in gaz.scan("In Papua New Guinea, not Guineas.")]
    assert found == [("Papua New Guinea", 3, 19)]
    assert gaz.scan("the city of nice") == []
    assert [m.surface for m in gaz.scan("Exports to the U.S. rose")] == ["U.S"]


def test_russian_forms_are_generated() -> None:
    gaz = gazetteer()
    for form in ("России", "Россию", "Таджикистане", "Москвы", "Москве"):
        assert gaz.lookup(form), form
