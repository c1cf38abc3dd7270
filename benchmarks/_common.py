"""Helpers shared by the benchmarks: timing, percentiles, the search query mix, the peer indexes
(raw Tantivy, bm25s) that run beside Sourcebook in the same process, and `sourcebook serve` as a
subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import tantivy
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sourcebook.ingest.registry import Source
from sourcebook.ingest.reuters import ReutersParser
from sourcebook.model import Document
from sourcebook.search.request import SearchRequest

HOST = "127.0.0.1"
console = Console()


def reuters_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("reut2-*.sgm"))
    if not files:
        raise SystemExit(f"no reut2-*.sgm files in {folder}")
    return files


def parse_reuters(files: Iterable[Path]) -> list[Document]:
    parser = ReutersParser()
    docs: list[Document] = []
    for path in files:
        docs.extend(d for d in parser.parse(Source.from_path(path)) if isinstance(d, Document))
    return docs


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def summarise(times_ms: list[float]) -> str:
    return (
        f"p50 {percentile(times_ms, 50):.2f} ms  p99 {percentile(times_ms, 99):.2f} ms  "
        f"mean {statistics.fmean(times_ms):.2f} ms"
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def latencies(
    run: Callable[[Any], object],
    items: Sequence[Any],
    rounds: int,
    threads: int,
    bar: Progress,
    label: str,
) -> tuple[list[float], float]:
    """Per-call milliseconds over ``rounds`` passes, and calls per second, on ``threads`` threads."""
    work = [item for _ in range(rounds) for item in items]
    task = bar.add_task(label, total=len(work), unit="queries")

    def one(item: Any) -> float:
        start = time.perf_counter()
        run(item)
        ms = (time.perf_counter() - start) * 1000
        bar.advance(task)
        return ms

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        times = list(pool.map(one, work))
    return times, len(work) / (time.perf_counter() - started)


def stats_of(times: list[float], qps: float | None = None) -> dict[str, float]:
    out = {
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(statistics.fmean(times), 2) if times else 0.0,
    }
    if qps is not None:
        out["qps"] = round(qps, 1)
    return out


# --- the query mix --------------------------------------------------------------------------
@dataclass
class PeerQuery:
    """The same search for a peer index: its own query syntax (AND by default), a page, a sort."""

    text: str
    offset: int = 0
    newest: bool = False


@dataclass
class QueryCase:
    """One search of the mix: its kind, the request to Sourcebook, the same for raw Tantivy, and
    the bag of words bm25s ranks when the query is one it can express (else None)."""

    kind: str
    request: SearchRequest
    peer: PeerQuery
    words: str | None = None


def vocabulary(docs: Iterable[Document], rng: random.Random) -> tuple[list[str], list[str]]:
    """Mid-frequency words of the bodies (the 50 commonest left out) and two-word title phrases."""
    words: Counter[str] = Counter()
    bigrams: list[str] = []
    for d in docs:
        tokens = re.findall(r"[a-z]{4,}", d.body.lower())
        words.update(tokens)
        title = re.findall(r"[A-Za-z]{4,}", d.title)
        if len(title) >= 2:
            i = rng.randrange(len(title) - 1)
            bigrams.append(f"{title[i]} {title[i + 1]}".lower())
    common = [w for w, c in words.most_common(3000) if c >= 5][50:]
    return common, bigrams


def _question_words(text: str) -> str:
    return " OR ".join(re.findall(r"\w+", text))


def make_cases(
    docs: Sequence[Document],
    n: int,
    questions: Sequence[str],
    dates: tuple[dt.date, dt.date],
    countries: Sequence[str] = (),
    deep_page: int = 5,
    seed: int = 7,
) -> list[QueryCase]:
    """``n`` varied searches, as users send them: single terms, AND, OR, NOT, phrases, proximity,
    prefixes, field queries, date ranges, country filters, sorting by date, a deep page, plain
    words, questions, and browsing everything; each with facets and best passages (the
    defaults of a SearchRequest). The kinds cycle, so every kind has ``n / kinds`` searches."""
    rng = random.Random(seed)
    words, bigrams = vocabulary(docs, rng)
    span = (dates[1] - dates[0]).days

    def w() -> str:
        return rng.choice(words)

    def case(
        kind: str, query: str, peer: str = "", words: str | None = None, **kw: Any
    ) -> QueryCase:
        mode = kw.pop("mode", "syntax")
        return QueryCase(
            kind, SearchRequest(query=query, mode=mode, **kw), PeerQuery(peer or query), words
        )

    def term() -> QueryCase:
        a = w()
        return case("term", a, words=a)

    def and_words(k: int) -> QueryCase:
        ws = [w() for _ in range(k)]
        return case(f"and{k}", " ".join(ws))

    def or3() -> QueryCase:
        a, b, c = w(), w(), w()
        return case("or3", f"{a} OR {b} OR {c}", words=f"{a} {b} {c}")

    def and_or() -> QueryCase:
        a, b, c = w(), w(), w()
        return case("and_or", f"({a} OR {b}) AND {c}")

    def not_() -> QueryCase:
        a, b = w(), w()
        return case("not", f"{a} -{b}")

    def phrase() -> QueryCase:
        return case("phrase", f'"{rng.choice(bigrams)}"')

    def proximity() -> QueryCase:
        return case("proximity", f'"{rng.choice(bigrams)}"~5')

    def prefix() -> QueryCase:
        stem = w()[:4]
        # Tantivy's parser reads `abc*` as the term `abc`; a regular expression is its prefix
        return case("prefix", f"{stem}*", f"(title:/{stem}.*/ OR body:/{stem}.*/)")

    def field() -> QueryCase:
        return case("field", f"title:{w()}")

    def date_range() -> QueryCase:
        start = dates[0] + dt.timedelta(days=rng.randrange(max(span - 30, 1)))
        end = min(start + dt.timedelta(days=30 if span < 400 else 365), dates[1])
        a = w()
        return case(
            "date",
            f"{a} date:{start}..{end}",
            f"{a} date:[{start}T00:00:00Z TO {end}T00:00:00Z]",
        )

    def country() -> QueryCase:
        a, code = w(), rng.choice(countries)
        return case("country", a, f"{a} country:{code}", countries=[code])

    def newest() -> QueryCase:
        a = w()
        c = case("newest", a, sort="newest", mode="auto")
        c.peer.newest = True
        return c

    def deep() -> QueryCase:
        a = w()
        c = case("deep_page", a, page=deep_page, mode="auto")
        c.peer.offset = (deep_page - 1) * c.request.page_size
        return c

    def plain() -> QueryCase:
        a, b = w(), w()
        return case("plain", f"{a} {b}", words=f"{a} {b}", mode="plain")

    def question() -> QueryCase:
        q = rng.choice(questions)
        return case("question", q, _question_words(q), words=q, mode="auto")

    def browse() -> QueryCase:
        c = case("browse", "", "language:en", sort="newest", languages=["en"], mode="auto")
        c.peer.newest = True
        return c

    makers: list[Callable[[], QueryCase]] = [
        term,
        lambda: and_words(2),
        lambda: and_words(3),
        or3,
        and_or,
        not_,
        phrase,
        proximity,
        prefix,
        field,
        date_range,
        newest,
        deep,
        plain,
        question,
        browse,
    ]
    if countries:
        makers.insert(11, country)
    return [makers[i % len(makers)]() for i in range(n)]


# --- peers ----------------------------------------------------------------------------------
class RawTantivy:
    """The peer: plain Tantivy with the stock English stemmer on title and body, stored fields,
    raw country and language fields and a date, queried through Tantivy's own query parser with
    AND between words (as Sourcebook's query language has)."""

    def __init__(self, path: Path) -> None:
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("docid", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("country", tokenizer_name="raw")
        sb.add_text_field("language", tokenizer_name="raw")
        sb.add_date_field("date", indexed=True, fast=True)
        self.schema = sb.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path), reuse=True)

    def add(self, docs: Iterable[Document]) -> int:
        writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        n = 0
        for i, d in enumerate(docs):
            doc = tantivy.Document()
            doc.add_text("docid", str(i))
            doc.add_text("title", d.title)
            doc.add_text("body", d.body)
            for code in d.countries:
                doc.add_text("country", code)
            if d.language:
                doc.add_text("language", d.language)
            if d.publication_date:
                p = d.publication_date
                doc.add_date("date", dt.datetime(p.year, p.month, p.day, tzinfo=dt.UTC))
            writer.add_document(doc)
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        return n

    def num_docs(self) -> int:
        return int(self.index.searcher().num_docs)

    def search(self, query: PeerQuery | str, limit: int = 10) -> list[str]:
        peer = PeerQuery(query) if isinstance(query, str) else query
        searcher = self.index.searcher()
        parsed, _errors = self.index.parse_query_lenient(
            peer.text, ["title", "body"], conjunction_by_default=True, allow_regexes=True
        )
        kwargs: dict[str, Any] = {"offset": peer.offset}
        if peer.newest:
            kwargs.update(order_by_field="date", order=tantivy.Order.Desc)
        result = searcher.search(parsed, limit, **kwargs)
        return [searcher.doc(address).get_first("title") for _score, address in result.hits]


class _IdLists:
    """Token ids per document kept as compact arrays, handed to bm25s as lists one at a time."""

    def __init__(self, arrays: list[Any]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays)

    def __iter__(self) -> Any:
        return (a.tolist() for a in self.arrays)


class Bm25sPeer:
    """The second peer: bm25s (Lucene BM25, k1=1.2, b=0.75) with the English Snowball stemmer
    (PyStemmer) and stop words, over title and body; it ranks bags of words only."""

    def __init__(self) -> None:
        import bm25s
        import bm25s.tokenization
        import Stemmer

        self._bm25s = bm25s
        self.tokenizer = bm25s.tokenization.Tokenizer(
            stopwords="en", stemmer=Stemmer.Stemmer("english")
        )
        self.model: Any = None

    def build(self, texts: Iterable[str]) -> int:
        """Index the texts, streaming: token ids are kept as int32 arrays, not Python lists."""
        import numpy as np

        arrays = [
            np.asarray(ids, dtype=np.int32)
            for ids in self.tokenizer.streaming_tokenize(texts, update_vocab=True)
        ]
        self.model = self._bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        corpus = self._bm25s.tokenization.Tokenized(
            ids=_IdLists(arrays), vocab=self.tokenizer.get_vocab_dict()
        )
        self.model.index(corpus, show_progress=False)
        return len(arrays)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder))
        self.tokenizer.save_vocab(str(folder))

    def load(self, folder: Path) -> None:
        self.model = self._bm25s.BM25.load(str(folder))
        self.tokenizer.load_vocab(str(folder))

    def search(self, text: str, k: int = 10) -> list[int]:
        ids = self.tokenizer.tokenize([text], update_vocab=False, show_progress=False)
        if not any(ids[0]):
            return []
        docs, _scores = self.model.retrieve(ids, k=k, show_progress=False, n_threads=1)
        return [int(i) for i in docs[0]]


# --- `sourcebook serve` as a subprocess ------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def sourcebook_command() -> list[str]:
    """The `sourcebook` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("sourcebook")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from sourcebook.cli import main; main()"]


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [*sourcebook_command(), "--archive", str(home)]
    command += ["serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(
    base: str,
    server: subprocess.Popen[bytes],
    timeout: float = 60,
    path: str = "/api/stats",
    interval: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"sourcebook serve exited with {server.returncode}")
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(interval)
    raise SystemExit("sourcebook serve did not answer in time")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- PostgreSQL ------------------------------------------------------------------------------
def with_schema(url: str, schema: str) -> str:
    """The URL with this schema first in its search_path."""
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def scratch_schema(url: str, prefix: str = "sb_bench") -> Iterator[str]:
    """A new, empty schema for one run (dropped afterwards): the URL that uses it."""
    import psycopg

    schema = f"{prefix}_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
