"""Near-duplicate groups: incremental, stable group ids, persistence."""

from __future__ import annotations

import random
import textwrap
import threading

import numpy as np
import pytest

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
    words = [("colour" if w == "color" and rng.random() < 0.5 else w) for w in words]
    body = " ".join(words[: int(len(words) * 0.9)])
    wrapped = textwrap.fill(body, 60)  # re-wrapped at word boundaries
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


REPORT = (
    "There were no significant changes in the human rights situation during the year. "
    "The government abused a wide range of human rights, and security forces detained "
    "critics, journalists and members of religious groups without charge for long periods. "
    "Conscripts in national service were held for years beyond the legal eighteen months."
)


def test_a_new_edition_is_not_a_reprint() -> None:
    index = DedupIndex()
    assert index.add("r2023", f"Eritrea 2023 Human Rights Report\n{REPORT * 3}") == "r2023"
    assert index.add("r2024", f"Eritrea 2024 Human Rights Report\n{REPORT * 3}") == "r2024"
    # the same edition re-posted with a new header and a trimmed tail is one
    repost = f"ERITREA 2024 HUMAN RIGHTS REPORT\nShare this page\n\n{REPORT * 3}"
    assert index.add("copy", repost) == "r2024"


def test_template_stories_with_other_figures_are_not_reprints() -> None:
    index = DedupIndex()
    template = (
        "NEW YORK, March {d} - The Federal Reserve entered the U.S. Government securities "
        "market to arrange {n} billion dlrs of customer repurchase agreements, a Fed "
        "spokesman said. Dealers said Federal funds were trading at {r} pct when the Fed "
        "began its temporary and indirect supply of reserves to the banking system. Reuter"
    )
    first = template.format(d=9, n="2.5", r="6-3/16")
    assert index.add("a", f"FED ADDS RESERVES\n{first}") == "a"
    assert index.add("b", f"FED ADDS RESERVES\n{template.format(d=11, n='1.5', r='6-5/16')}") == "b"
    # a fortnight later with the same figures: a new report, not a reprint
    assert index.add("c", f"FED ADDS RESERVES\n{template.format(d=25, n='2.5', r='6-3/16')}") == "c"
    # re-sent the next day, word for word: a reprint
    assert index.add("d", f"FED ADDS RESERVES\n{template.format(d=10, n='2.5', r='6-3/16')}") == "a"


def test_fingerprint_bytes_round_trip_and_legacy_signatures() -> None:
    from sourcebook.enrich.dedup import Fingerprint, fingerprint

    fp = fingerprint(f"Title 2024\nLONDON, March 3 - {REPORT} 42 people.")
    again = Fingerprint.from_bytes(fp.to_bytes())
    assert (again.shingles, again.key_count, again.title_numbers) == (
        fp.shingles,
        fp.key_count,
        fp.title_numbers,
    )
    assert again.dateline == fp.dateline == 3 * 32 + 3 and not again.legacy
    # a bare MinHash stored by version 1 joins only near-identical texts
    index = DedupIndex()
    index.add_signature("old", minhash_signature(f"Title\n{REPORT}"))
    assert index.add("new", f"Title\n{REPORT}") == "old"
    assert index.add("other", f"Title\n{REPORT[:200]}") == "other"


def test_a_flash_in_the_same_words_on_another_day_is_another_event() -> None:
    from datetime import date

    flash = "FED SETS TWO BILLION DLR CUSTOMER REPURCHASE, FED SAYS\n"
    index = DedupIndex()
    assert index.add("mar17", flash, date(1987, 3, 17)) == "mar17"
    assert index.add("mar30", flash, date(1987, 3, 30)) == "mar30"
    assert index.add("mar17b", flash, date(1987, 3, 18)) == "mar17"  # re-sent the next day
    assert index.add("undated", flash) == "mar17"  # no date: the words decide


def test_a_long_text_is_signed_in_blocks_with_the_same_signature() -> None:
    """A text of many shingles is permuted a block at a time (bounded memory); the minimum over
    blocks is the minimum over the whole."""
    import numpy as np

    from sourcebook.enrich import dedup

    words = [f"w{i % 5000}x{i % 7}" for i in range(3 * dedup.MINHASH_BLOCK)]
    text = " ".join(words)
    options = dedup.DedupOptions()
    a, b = dedup._permutations(options.num_perm, options.seed)
    hashed = dedup._shingle_hashes(text, options.shingle_words)
    assert len(hashed) > 2 * dedup.MINHASH_BLOCK
    whole = (hashed[:, None] * a[None, :] + b[None, :]).min(axis=0).astype(np.uint32)
    assert np.array_equal(dedup.minhash_signature(text, options), whole)


def test_a_fingerprint_hashes_the_shingles_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The signature and the shingle count share one pass over the words (ingest speed: the
    second pass cost a third of the fingerprint), and the signature is the plain MinHash."""
    from sourcebook.enrich import dedup

    text = "Title line\n" + " ".join(f"word{i % 97} other{i % 13}" for i in range(400))
    expected = minhash_signature(text)
    calls: list[str] = []
    real = dedup._shingle_hashes

    def counting(words: str, k: int) -> np.ndarray:
        calls.append(words)
        return real(words, k)

    monkeypatch.setattr(dedup, "_shingle_hashes", counting)
    fp = DedupIndex().fingerprint(text)
    assert len(calls) == 1
    assert np.array_equal(fp.signature, expected)
    assert fp.shingles == len(np.unique(real(text, dedup.DedupOptions().shingle_words)))
