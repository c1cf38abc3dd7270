"""Cross-language search: an English query finds French and Russian documents, and the reverse.

BM25 matches words, so it finds a document in another language only through the names the two
share. A multilingual embedding model (``sourcebook.enrich.multilingual``) maps a query and a
document that say the same thing in two languages to nearby vectors. When an archive's vectors
come from such a model, a plain-text query sorted by relevance is ranked for its meaning across
languages, by default:

* **on** (the default where the vectors are multilingual, setting ``crosslang``; a search may
  ask for it with ``crosslang=True``): the BM25 list and the vector list are fused with the
  vectors weighted by ``crosslang_vector_weight`` (1.0 by default: the vectors alone, BM25 only
  adds its matches past the vector list). Fused as for English hybrid search (0.6 BM25), the
  BM25 list of an English query over Russian documents is mostly noise and costs the vectors
  most of their gain (docs/semantic.md has the figures). The result's ``ranking`` is
  ``crosslang`` and it carries :data:`CROSSLANG_NOTICE`, since the query was read for its
  meaning, not its words.
* **off** (``crosslang=False``): hybrid search as with an English model, except that the vector
  list is kept to documents that match the query's words, so nothing comes back that does not
  contain them: in practice, documents in the query's language (and the few in other languages
  that share a name with it).

Archives whose vectors are English-only rank as before; a search that asks for cross-language
search there is answered by its words with :data:`UNAVAILABLE_NOTICE`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sourcebook.config import Settings
from sourcebook.search.fusion import Fusion
from sourcebook.search.request import SearchRequest

#: Shown with results ranked across languages (the query was read for its meaning).
CROSSLANG_NOTICE = (
    "cross-language search: results include documents in other languages, ranked by meaning "
    "rather than by your words (turn cross-language search off for documents containing them)"
)
#: Shown when a search asked for cross-language search and the archive cannot do it.
UNAVAILABLE_NOTICE = (
    "cross-language search is not available here (it needs multilingual vectors: "
    "semantic_model = e5 and the embedding job), so results match your words"
)


@dataclass(frozen=True)
class CrosslangChoice:
    """How one search uses the vectors: the fusion, and whether vector hits must match words."""

    #: ``crosslang`` or ``hybrid`` (the result's ``ranking``).
    ranking: str
    fusion: Fusion
    #: Keep the vector list to documents matching the query's words.
    words_only: bool
    notice: str = ""


def wanted(settings: Settings, request: SearchRequest) -> bool:
    """Whether this search asks for cross-language search (its option, else the default)."""
    return settings.crosslang if request.crosslang is None else request.crosslang


def choose(settings: Settings, request: SearchRequest, multilingual: bool) -> CrosslangChoice:
    """The ranking of a hybrid search, given whether the archive's vectors are multilingual."""
    if not multilingual:
        notice = UNAVAILABLE_NOTICE if request.crosslang else ""
        return CrosslangChoice("hybrid", settings.fusion(), words_only=False, notice=notice)
    if wanted(settings, request):
        return CrosslangChoice(
            "crosslang", settings.crosslang_fusion(), words_only=False, notice=CROSSLANG_NOTICE
        )
    return CrosslangChoice("hybrid", settings.fusion(), words_only=True)


__all__ = ["CROSSLANG_NOTICE", "UNAVAILABLE_NOTICE", "CrosslangChoice", "choose", "wanted"]
