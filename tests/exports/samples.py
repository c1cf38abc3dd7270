"""Records for the export tests: a Refworld news item, a Russian report by a person, an Arabic
report without a date, and one with characters that mean something to LaTeX, CSV and Markdown."""

from __future__ import annotations

from datetime import date

from sourcebook.model import Document

ACCESSED = date(2026, 1, 5)

SEED = Document(
    docid="vsrdalhiem",
    title="Putin and Rahmon agree to bolster Tajik-Afghan border security",
    publisher="Radio Free Europe/Radio Liberty",
    publication_date=date(2017, 2, 27),
    source_url="https://www.refworld.org/docid/5975a5b29.html",
    document_type="News",
    countries=["TJ", "AF", "RU"],
    language="en",
)
RUSSIAN = Document(
    docid="abcdefghij",
    title="Россия: положение ЛГБТ в Чечне",
    authors=["Petrova, Anna"],
    publisher="Memorial",
    publication_date=date(2021, 5, 3),
    document_type="Report",
    countries=["RU"],
)
ARABIC = Document(
    docid="klmnopqrst",
    title="تقرير عن أوضاع اللاجئين",
    publisher="UNHCR",
    document_type="Report",
    original_url="https://example.org/ar",
)
TRICKY = Document(
    docid="uvwxyz2345",
    title='=HYPERLINK("http://evil") 50% of {cases} & <b>more</b> #1',
    publisher="Rights_Watch, Inc.",
    authors=["Smith, Jane", "Ministry of Justice and Security"],
    publication_date=date(2020, 1, 31),
)
DOCS = [SEED, RUSSIAN, ARABIC, TRICKY]
