"""Plain-text queries: the words of pasted sentences and questions, weighted, never an error.

Words are split as the index splits them (letters and digits), lower-cased, stop words and
one-character words dropped, and counted: a word a long question repeats weighs more (its query
term frequency, log-scaled: 1 + ln(count)). The first ``MAX_TERMS`` distinct words are kept. If
nothing is left (a query made only of stop words), the words are kept as they are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from sourcebook.search.stopwords import is_stopword

MAX_TERMS = 64
_WORD = re.compile(r"[^\W_]+")


def plain_terms(text: str, languages: Sequence[str]) -> list[tuple[str, float]]:
    """(word, weight) pairs for a plain-text query, in first-seen order."""
    words = [w.lower() for w in _WORD.findall(text)]
    langs = tuple(languages)
    content = [w for w in words if len(w) > 1 and not is_stopword(w, langs)] or words
    counts = Counter(content)
    ordered = list(dict.fromkeys(content))[:MAX_TERMS]
    return [(w, 1.0 + math.log(counts[w])) for w in ordered]
