"""Query fuzz on Reuters-21578: every generated query is answered or refused within the budget.

    python benchmarks/query_fuzz.py --reuters ../shared/data/reuters21578 [--archive DIR]

Builds (or reuses, with ``--archive``) an archive of the 15,000 Reuters stories, then runs
``--queries`` generated queries through the search service with the default settings (the cost
limits of ``search/limits.py``, the time budget of ``search/budget.py``, facets and passages on,
as a user's search runs) under the serving memory ceiling. A third are token soups (words,
quotes, parentheses, operators, fields, ``~N``, wildcards, dates), the rest adversarial: repeated
words in sloppy phrases (the query that took the server down), long phrases, many wildcards,
deep nesting, long OR lists, mixes of these.

Each query must end, answered or refused (``QuerySyntaxError``, ``SearchTimeout``), within the
budget plus ``--grace`` seconds, with no other exception, and the peak memory of any one query
(VmHWM, reset before each query) must stay under ``--rss-mb``. A search refused for time goes
on in the background: the run waits for it and reports how long it took. Prints the counts, the
slowest and the most memory-hungry queries, and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import parse_reuters, reuters_files
from sourcebook.config import Settings
from sourcebook.errors import QuerySyntaxError, SearchTimeout
from sourcebook.memory_limit import apply_memory_ceiling
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

OPERATORS = ["AND", "OR", "NOT", "&&", "||", "-", "+", "!"]
FIELDS = ["title:", "body:", "country:", "language:", "publisher:", "place:", "person:", "org:"]
DATES = ["date:1987", "date:1987-03", "date:1987-03-01..1987-03-31", "date:>=1987-04-01",
         "date:[1987-02-26 TO 1987-03-15]", "year:1987", "date:<1987-03"]  # fmt: skip
VALUES = ["US", "GB", "Japan", "fr", "en", "Reuters", "usa", "Tokyo", "Baker"]


def _peak_reset() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Generator:
    def __init__(self, frequent: list[str], words: list[str], rng: random.Random) -> None:
        self.frequent = frequent
        self.words = words
        self.rng = rng

    def word(self) -> str:
        r = self.rng
        return r.choice(self.frequent) if r.random() < 0.4 else r.choice(self.words)

    def soup(self) -> str:
        r = self.rng
        pieces = []
        for _ in range(r.randint(1, 25)):
            k = r.random()
            if k < 0.4:
                pieces.append(self.word())
            elif k < 0.5:
                pieces.append(r.choice(OPERATORS))
            elif k < 0.58:
                pieces.append(r.choice(FIELDS) + r.choice([self.word(), r.choice(VALUES)]))
            elif k < 0.64:
                pieces.append(r.choice(DATES))
            elif k < 0.72:
                pieces.append(r.choice(["(", ")", '"', "*", "?", "~", "\\", ":"]))
            elif k < 0.82:
                phrase = " ".join(self.word() for _ in range(r.randint(1, 6)))
                slop = r.choice(["", f"~{r.randint(0, 100)}"])
                pieces.append(f'"{phrase}"{slop}')
            else:
                w = self.word()
                cut = r.randint(2, max(2, len(w)))
                pieces.append(w[:cut] + r.choice(["*", "?*", "*" + w[-1:], "?"]))
        glue = r.choice([" "] * 5 + [""])
        return glue.join(pieces)

    def repeated_phrase(self) -> str:
        r = self.rng
        word = r.choice(self.frequent[:20])
        copies = r.randint(2, 30)
        extra = [self.word() for _ in range(r.randint(0, 3))]
        tokens = [word] * copies + extra
        r.shuffle(tokens)
        return f'"{" ".join(tokens)}"~{r.choice([1, 5, 10, 20, 50, 100, r.randint(0, 100)])}'

    def mixed_repeats(self) -> str:
        r = self.rng
        base = [r.choice(self.frequent[:30]) for _ in range(r.randint(2, 5))]
        tokens = [r.choice(base) for _ in range(r.randint(4, 40))]
        return f'"{" ".join(tokens)}"~{r.randint(1, 100)}'

    def near_repeats(self) -> str:
        """Within the limits but as costly as they allow: four repeats of the commonest words."""
        r = self.rng
        common = self.frequent[:8]
        distinct = [self.word() for _ in range(r.randint(0, 40))] + r.sample(common, 4)
        tokens = distinct + [r.choice(common) for _ in range(4)]
        r.shuffle(tokens)
        return f'"{" ".join(tokens)}"~100'

    def near_wildcards(self) -> str:
        """Ten wildcard words with two-letter starts (the most the limits allow)."""
        r = self.rng
        out = []
        for _ in range(10):
            w = self.word()
            out.append(w[:2] + r.choice(["*", "?*", "*?*", "?*?*", "*" + w[-1:]]))
        return r.choice([" ", " OR "]).join(out)

    def long_phrase(self) -> str:
        r = self.rng
        tokens = [self.word() for _ in range(r.randint(10, 90))]
        return f'"{" ".join(tokens)}"' + r.choice(["", f"~{r.randint(1, 100)}"])

    def wildcards(self) -> str:
        r = self.rng
        out = []
        for _ in range(r.randint(3, 25)):
            w = self.word()
            out.append(w[: r.randint(1, 4)] + r.choice(["*", "?*", "*?*", "?"]))
        return r.choice([" ", " OR "]).join(out)

    def nested(self) -> str:
        r = self.rng
        depth = r.randint(5, 60)
        text = self.word()
        for _ in range(depth):
            text = f"({self.word()} {r.choice(['OR', 'AND', '-'])} {text})".replace("- ", "-")
        return text

    def or_list(self) -> str:
        r = self.rng
        text = ""
        while len(text) < r.randint(200, 1990):
            text += f"{self.word()}{r.choice(['*', ''])} OR "
        return text.rstrip(" OR")[:1990]

    def mix(self) -> str:
        parts = [self.repeated_phrase(), self.wildcards(), self.nested(), self.long_phrase()]
        self.rng.shuffle(parts)
        return " ".join(parts[: self.rng.randint(2, 4)])[:2000]

    def next(self) -> tuple[str, str]:
        kinds = {
            "soup": (self.soup, 34),
            "repeated-phrase": (self.repeated_phrase, 20),
            "mixed-repeats": (self.mixed_repeats, 10),
            "long-phrase": (self.long_phrase, 8),
            "wildcards": (self.wildcards, 10),
            "nested": (self.nested, 6),
            "or-list": (self.or_list, 6),
            "mix": (self.mix, 6),
            "near-repeats": (self.near_repeats, 10),
            "near-wildcards": (self.near_wildcards, 10),
        }
        names = list(kinds)
        name = self.rng.choices(names, weights=[kinds[n][1] for n in names])[0]
        return name, kinds[name][0]()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reuters", type=Path, required=True, help="folder with reut2-*.sgm")
    ap.add_argument("--archive", type=Path, help="archive folder to build once and reuse")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1987)
    ap.add_argument("--grace", type=float, default=0.5, help="seconds allowed past the budget")
    ap.add_argument("--rss-mb", type=float, default=1024, help="peak memory allowed per query")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="query-fuzz-") as tmp:
        home = args.archive or Path(tmp) / "archive"
        settings = Settings(home=home)
        apply_memory_ceiling(settings.serve_memory_mb)  # as `sourcebook serve` runs
        budget = settings.search_timeout_seconds
        files = reuters_files(args.reuters)
        with Archive(settings) as archive:
            if int(archive.stats().get("documents", 0)) < 10_000:
                report = archive.ingest(files)
                print(f"built the archive: {report.documents:,} stories")
            stories = parse_reuters(files[:3])
            counts: Counter[str] = Counter()
            for doc in stories:
                counts.update(w for w in doc.body.lower().split() if w.isalpha())
            ranked = [w for w, _ in counts.most_common(3000)]
            gen = Generator(ranked[:60], ranked[60:], rng)
            print(
                f"archive: {archive.stats()['documents']:,} stories; budget {budget:g} s; "
                f"{args.queries:,} queries"
            )
            outcomes: Counter[str] = Counter()
            by_kind: Counter[str] = Counter()
            failures: list[str] = []
            slowest: tuple[float, str, str] = (0.0, "", "")
            hungriest: tuple[float, str, str] = (0.0, "", "")
            background: tuple[float, str] = (0.0, "")
            started = time.perf_counter()
            for n in range(args.queries):
                kind, query = gen.next()
                by_kind[kind] += 1
                mode = rng.choice(["syntax", "auto"])
                request = SearchRequest(query=query, mode=mode)  # type: ignore[arg-type]
                _peak_reset()
                t0 = time.perf_counter()
                try:
                    archive.search(request)
                    outcome = "answered"
                except QuerySyntaxError as exc:
                    outcome = "refused" if exc.message.strip() else "refused without a message"
                except SearchTimeout:
                    outcome = "timed out"
                except Exception as exc:
                    outcome = f"error {type(exc).__name__}"
                    failures.append(f"{type(exc).__name__}: {exc} <- {mode} {query!r}")
                took = time.perf_counter() - t0
                if outcome == "timed out":  # let it finish, to see how long it really runs
                    engine_budget = archive.engine.budget
                    while engine_budget.overdue:
                        time.sleep(0.05)
                    ran = time.perf_counter() - t0
                    if ran > background[0]:
                        background = (ran, query)
                peak = _peak_mb()
                outcomes[outcome] += 1
                if took > budget + args.grace:
                    failures.append(f"took {took:.2f} s ({outcome}) <- {mode} {query!r}")
                if peak > args.rss_mb:
                    failures.append(f"peak {peak:.0f} MB ({outcome}) <- {mode} {query!r}")
                if took > slowest[0]:
                    slowest = (took, f"{outcome}, {kind}, {mode}", query)
                if peak > hungriest[0]:
                    hungriest = (peak, f"{outcome}, {kind}, {mode}", query)
                if (n + 1) % 500 == 0:
                    print(f"  {n + 1:,} queries, {time.perf_counter() - started:.0f} s", flush=True)
            elapsed = time.perf_counter() - started

    print(f"ran {args.queries:,} queries in {elapsed:.1f} s ({dict(by_kind)})")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()))
    print(f"slowest:  {slowest[0] * 1000:.0f} ms ({slowest[1]}): {slowest[2][:200]!r}")
    print(f"peak RSS: {hungriest[0]:.0f} MB ({hungriest[1]}): {hungriest[2][:200]!r}")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if background[0]:
        print(f"longest refused-for-time search ran {background[0]:.1f} s: {background[1][:200]!r}")
    if failures:
        print(f"FAILED ({len(failures)}):")
        for line in failures[:20]:
            print("  " + line[:300])
        return 1
    print("ok: every query answered or refused within the budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
