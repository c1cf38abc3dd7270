"""The parser auction: every fixture and every real file type goes to the right parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcebook.errors import UnsupportedFormat
from sourcebook.ingest.registry import Parser, ParserRegistry, Source
from sourcebook.model import BadRecord, Document

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "ingest"
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def registry() -> ParserRegistry:
    return ParserRegistry.from_entry_points()


def test_all_builtin_parsers_register(registry: ParserRegistry) -> None:
    names = sorted(p.name for p in registry.parsers)
    assert names == [
        "docx",
        "email",
        "epub",
        "feed",
        "html",
        "image",
        "jsonl",
        "msg",
        "odt",
        "pdf",
        "refworld",
        "reuters",
        "rtf",
        "text",
    ]
    for parser in registry.parsers:
        assert isinstance(parser, Parser)
        assert parser.extensions and parser.media_types


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("refworld/record.txt", "refworld"),
        ("refworld/record.html", "refworld"),
        ("html/article.html", "html"),
        ("html/fragment.html", "html"),
        ("html/empty.html", "html"),
        ("pdf/report.pdf", "pdf"),
        ("text/plain.txt", "text"),
        ("text/report.md", "text"),
        ("text/latin1.txt", "text"),
        ("text/empty.txt", "text"),
        ("jsonl/records.jsonl", "jsonl"),
        ("jsonl/beir-mini/corpus.jsonl", "jsonl"),
        ("jsonl/empty.jsonl", "jsonl"),
        ("feed/rss2.xml", "feed"),
        ("feed/atom.xml", "feed"),
        ("feed/rss1.rdf", "feed"),
        ("feed/damaged.xml", "feed"),
        ("feed/not-a-feed.xml", "text"),  # readable text, but not a feed
        ("reuters/mini.sgm", "reuters"),
        ("reuters/truncated.sgm", "reuters"),
        ("README.md", "text"),
        ("office/report.rtf", "rtf"),
    ],
)
def test_fixture_auction(registry: ParserRegistry, relative: str, expected: str) -> None:
    assert registry.auction(Source.from_path(FIXTURES / relative)).name == expected


def test_unknown_binary_is_unsupported(registry: ParserRegistry, tmp_path: Path) -> None:
    for name in ("junk.bin", "junk.dat", "noextension"):
        path = tmp_path / name
        path.write_bytes((FIXTURES / "text" / "junk.bin").read_bytes())
        with pytest.raises(UnsupportedFormat, match=name):
            registry.auction(Source.from_path(path))


@pytest.mark.parametrize(
    "path",
    sorted(p for p in EXAMPLES.iterdir() if p.is_file()),
    ids=lambda p: p.name,
)
def test_every_example_parses(registry: ParserRegistry, path: Path) -> None:
    results = list(registry.parse(Source.from_path(path)))
    assert results
    for result in results:
        assert isinstance(result, Document), result
        assert result.title and result.body and result.source_key
        assert "Illustrative" in result.title
        assert "not a real" in (result.body + result.disclaimer)


def test_examples_cover_our_formats(registry: ParserRegistry) -> None:
    files = [p for p in EXAMPLES.iterdir() if p.is_file()]
    assert 5 <= len(files) <= 8
    names = {registry.auction(Source.from_path(p)).name for p in files}
    assert names == {"refworld", "text", "feed", "jsonl", "html"}


# -- real data -------------------------------------------------------------------------------

REAL_FILES = [
    ("reuters21578/reut2-000.sgm", "reuters"),
    ("reuters21578/README.txt", "text"),
    ("reuters21578/lewis.dtd", "text"),
    ("bbc-news/bbc/sport/199.txt", "text"),
    ("us-state-dept-hrr/reports/tajikistan.md", "text"),
    ("us-state-dept-hrr/metadata.jsonl", "jsonl"),
    ("crs-reports/pdf/IF10491.14.pdf", "pdf"),
    ("crs-reports/markdown/IF10491v14-australia-background-and-u-s-relations.md", "text"),
    ("html-pages/pages/wikimediafoundation.org.turkey.html", "html"),
    ("html-pages/fragments/cia-world-factbook-countries-index.fragment.html", "html"),
    ("html-pages/PROVENANCE.md", "text"),  # mentions <html> in prose: still Markdown
    ("feeds/everycrsreport/everycrsreport-rss.xml", "feed"),
    ("wikinews-fr-ru/fr/docs/43971.txt", "text"),
    ("beir/scifact/corpus.jsonl", "jsonl"),
]


@pytest.mark.shared
@pytest.mark.parametrize(("relative", "expected"), REAL_FILES)
def test_real_file_auction(
    registry: ParserRegistry, shared_data: Path, relative: str, expected: str
) -> None:
    assert registry.auction(Source.from_path(shared_data / relative)).name == expected


@pytest.mark.shared
def test_seed_record_auction(registry: ParserRegistry, seed_record: Path) -> None:
    source = Source.from_path(seed_record)
    assert registry.auction(source).name == "refworld"
    [doc] = list(registry.parse(source))
    assert not isinstance(doc, BadRecord)
    assert doc.source_key == "refworld:5975a5b29"
