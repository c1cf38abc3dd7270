"""Near-duplicate groups: incremental, stable group ids, persistence."""

from __future__ import annotations

import random
import threading

import numpy as np

from sourcebook.enrich.dedup import DedupIndex, minhash_signature, shingles

WORDS = [
    "the",
    "government",
    "said",
    "on",
    "monday",
    "that",
    "talks",
    "with",
    "the",
    "opposition",
    "would",
    "resume",
    "next",
    "week",
    "in",
    "the",
    "capital",
    "after",
    "a",
    "month",
    "of",
    "protests",
    "over",
    "rising",
    "prices",
    "and",
    "new",
    "taxes",
    "on",
    "fuel",
    "while",
    "officials",
    "in",
    "the",
    "region",
    "warned",
    "of",
    "shortages",
    "of",
    "grain",
    "and",
    "medicine",
    "for",
    "refugees",
    "crossing",
    "the",
    "border",
    "from",
    "the",
    "south",
    "where",
    "fighting",
    "continued",
    "for",
    "a",
    "third",
    "day",
]


def article(seed: int, n: int = 160) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + ("." if rng.random() < 0.08 else "") for _ in range(n))


def edited(text: str, seed: int) -> str:
    rng = random.Random(seed)
    words = text.split()
    words = [("changed" if rng.random() < 0.03 else w) for w in words]
    body = " ".join(words[: int(len(words) * 0.9)])
    wrapped = "\n".join(body[i : i + 60] for i in range(0, len(body), 60))
    return f"Share this article\n\n{wrapped.upper()}\n\nCopyright 2024"


def test_shingles() -> None:
    assert shingles("One, two; THREE four!", 3) == ["one two three", "two three four"]
    assert shingles("two words", 3) == ["two words"]
    assert shingles("", 3) == []


def test_signature_is_stable_and_ignores_wrapping_and_case() -> None:
    text = article(1)
    a = minhash_signature(text)
    assert a.dtype == np.uint32 and a.shape == (128,)
    assert (a == minhash_signature(text.upper().replace(" ", "\n"))).all()
    assert (minhash_signature("") == 0xFFFFFFFF).all()


def test_groups_edited_copies_and_keeps_others_apart() -> None:
    index = DedupIndex()
    originals = [article(i) for i in range(20)]
    for i, text in enumerate(originals):
        assert index.add(f"doc{i}", text) == f"doc{i}"
    assert index.add("copy3", edited(originals[3], 1)) == "doc3"
    assert index.add("copy3b", edited(originals[3], 2)) == "doc3"
    assert index.add("copy7", edited(originals[7], 3)) == "doc7"
    assert index.groups() == {"doc3": ["doc3", "copy3", "copy3b"], "doc7": ["doc7", "copy7"]}
    assert index.group_of("copy7") == "doc7" and index.group_of("nope") is None
    assert index.add("doc3", "anything") == "doc3"  # adding twice changes nothing
    assert index.similar(originals[7])[0][0] == "doc7"


def test_empty_text_is_its_own_group() -> None:
    index = DedupIndex()
    assert index.add("a", "") == "a"
    assert index.add("b", "") == "b"
    assert index.groups() == {}


def test_round_trip_bytes_and_signatures() -> None:
    index = DedupIndex()
    texts = {f"d{i}": article(i) for i in range(5)}
    texts["c1"] = edited(texts["d1"], 9)
    rows = []
    for docid, text in texts.items():
        group = index.add(docid, text)
        rows.append((docid, index.signature_bytes(text), group))
    again = DedupIndex.from_bytes(index.to_bytes())
    assert again.groups() == index.groups() == {"d1": ["d1", "c1"]}
    assert again.add("c2", edited(texts["d1"], 10)) == "d1"
    rebuilt = DedupIndex.from_signatures(rows)
    assert rebuilt.groups() == index.groups()


def test_thread_safe_adds() -> None:
    index = DedupIndex()
    texts = [article(i) for i in range(40)]

    def work(offset: int) -> None:
        for i in range(offset, 40, 4):
            index.add(f"d{i}", texts[i])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(index) == 40
