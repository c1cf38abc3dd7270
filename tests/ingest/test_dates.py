"""sourcebook.dates: the date shapes the parsers meet, and what is not a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sourcebook.dates import leading_date, parse_date, parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-02-27", date(2017, 2, 27)),
        ("2017-02-27T15:20:00Z", date(2017, 2, 27)),
        ("27 February 2017", date(2017, 2, 27)),
        ("February 27, 2017", date(2017, 2, 27)),
        ("Feb. 27, 2017", date(2017, 2, 27)),
        ("Sept 5, 2019", date(2019, 9, 5)),
        ("27-FEB-1987 15:01:01.79", date(1987, 2, 27)),
        ("  3-MAR-1987 00:43:42.82", date(1987, 3, 3)),
        ("Wednesday, 17 May 2023, 15:20 GMT", date(2023, 5, 17)),
        ("Tue, 22 Sep 2026 23:00:00 -0400", date(2026, 9, 22)),  # the date as written
        ("29 octobre 2012", date(2012, 10, 29)),
        ("1er mai 2012", date(2012, 5, 1)),
        ("22 août 2012", date(2012, 8, 22)),
        ("28 марта 2020 года", date(2020, 3, 28)),
        ("27\u00a0February\u00a02017", date(2017, 2, 27)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "May 2017",
        "2017",
        "31 February 2017",
        "2017-13-01",
        "hello 2017",
        "27 Flob 2017",
        "in two weeks",
        "27 February 2017, available at: somewhere",
    ],
)
def test_not_a_date(text: str | None) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wednesday, 17 May 2023, 15:20 GMT", datetime(2023, 5, 17, 15, 20, tzinfo=UTC)),
        ("Tue, 22 Sep 2026 23:00:00 -0400", datetime(2026, 9, 23, 3, 0, tzinfo=UTC)),
        ("2020-01-15T10:00:00+02:00", datetime(2020, 1, 15, 8, 0, tzinfo=UTC)),
        ("2024-01-16T08:00:00Z", datetime(2024, 1, 16, 8, 0, tzinfo=UTC)),
        ("2024-01-16T08:00:00", datetime(2024, 1, 16, 8, 0, tzinfo=UTC)),  # no zone: UTC
        ("2017-02-27", datetime(2017, 2, 27, tzinfo=UTC)),
        ("17 May 2023, 3:20 pm EDT", datetime(2023, 5, 17, 19, 20, tzinfo=UTC)),
        ("Sat, 26 Sep 26 07:11:57 +0000", datetime(2026, 9, 26, 7, 11, 57, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo is UTC


def test_parse_datetime_rejects() -> None:
    assert parse_datetime("") is None
    assert parse_datetime("not a date") is None
    assert parse_datetime("17 May 2023, 15:20 XYZT") is None


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("February 27, 2017", date(2017, 2, 27)),
        ("22 mai 2012. - Prévu initialement pour samedi", date(2012, 5, 22)),
        ("22 août 2012, Espagne. - Le Parti populaire", date(2012, 8, 22)),
        ("June 3, 2020 — Kabul police said", date(2020, 6, 3)),
        ("29 octobre 2012.", date(2012, 10, 29)),
        ("In 2012 the court ruled on 3 May 2012 that", None),
        ("SALVADOR, Feb 26 - Showers continued", None),
        ("Officials said on 3 May 2012 - or so - that", None),
    ],
)
def test_leading_date(paragraph: str, expected: date | None) -> None:
    assert leading_date(paragraph) == expected
