"""Read the dates that sources write, without guessing.

Parsers meet a handful of date shapes: ISO (``2017-02-27``), day-month-year (``27 February
2017``, Refworld; ``29 octobre 2012``, French Wikinews; ``28 марта 2020``, Russian), month-day-year
(``February 27, 2017``, datelines), Reuters-21578 (``27-FEB-1987 15:01:01.79``) and RFC 822
(``Tue, 22 Sep 2026 00:00:00 -0400``, feeds). A small set of regular expressions covers them all;
``dateparser`` would cover more but is slow (tens of milliseconds a call, and 15,000 Reuters
stories go through here) and happily reads "in two weeks" or a bare "May" as a date, which
would invent facts. Anything not clearly a full day-month-year gives ``None``.

Two choices worth knowing:

* :func:`parse_date` returns the calendar date *as written*, ignoring any time zone: a feed item
  dated ``Tue, 22 Sep 2026 23:00 -0400`` was published on 22 September where it was published,
  even though it was already the 23rd in UTC.
* :func:`parse_datetime` returns an aware UTC datetime. A time written without a zone is taken
  as UTC (the only choice that does not depend on where Sourcebook runs); a date alone is
  midnight UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["MONTHS", "leading_date", "parse_date", "parse_datetime"]

#: Month names (lower case, accents included and folded) to month numbers: English, French and
#: Russian (genitive, as used in dates, and nominative).
MONTHS: dict[str, int] = {}
_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "janvier", "janv", "января", "январь"),
    2: ("february", "feb", "février", "fevrier", "févr", "fevr", "февраля", "февраль"),
    3: ("march", "mar", "mars", "марта", "март"),
    4: ("april", "apr", "avril", "avr", "апреля", "апрель"),
    5: ("may", "mai", "мая", "май"),
    6: ("june", "jun", "juin", "июня", "июнь"),
    7: ("july", "jul", "juillet", "juil", "июля", "июль"),
    8: ("august", "aug", "août", "aout", "августа", "август"),
    9: ("september", "sep", "sept", "septembre", "сентября", "сентябрь"),
    10: ("october", "oct", "octobre", "октября", "октябрь"),
    11: ("november", "nov", "novembre", "ноября", "ноябрь"),
    12: ("december", "dec", "décembre", "decembre", "déc", "декабря", "декабрь"),
}
for _number, _names in _MONTH_NAMES.items():
    for _name in _names:
        MONTHS[_name] = _number

_WEEKDAY = (
    r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)\.?,?\s+"
)
_MONTH = r"(?P<month>[^\W\d_]{3,10})\.?"
_DAY = r"(?P<day>\d{1,2})(?:er|st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
#: What may follow a date inside a date field: a time, a zone, "года"/"г." (Russian "year").
_TIME = (
    r"(?:[,\s]+(?:г\.|года|год))?"
    r"(?P<time>(?:[,\sT]+|\s+(?:at|à|в)\s+)"
    r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*(?P<zone>z|gmt|utc|[a-z]{3,4}|[+-]\d{2}:?\d{2})(?:[+-]\d{1,2}(?::?\d{2})?)?)?)?"
)
_END = r"[\s.,]*$"

_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # 2017-02-27, 2017-02-27T15:20:00Z
        rf"^(?P<year>\d{{4}})-(?P<nmonth>\d{{1,2}})-(?P<day>\d{{1,2}}){_TIME}{_END}",
        # 27-FEB-1987 15:01:01.79 (Reuters-21578)
        rf"^(?:{_WEEKDAY})?{_DAY}-{_MONTH}-{_YEAR}{_TIME}{_END}",
        # 27 February 2017, Wednesday, 17 May 2023, 15:20 GMT, 1er mai 2012, RFC 822
        rf"^(?:{_WEEKDAY})?{_DAY}\s+(?:de\s+)?{_MONTH},?\s+{_YEAR}{_TIME}{_END}",
        # February 27, 2017; Feb. 27 2017
        rf"^(?:{_WEEKDAY})?{_MONTH}\s+{_DAY},?\s+{_YEAR}{_TIME}{_END}",
    )
)

_US_ZONES = {"est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7}


def _match(text: str) -> re.Match[str] | None:
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if not cleaned or len(cleaned) > 80:
        return None
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            return match
    return None


def _date_of(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    if groups.get("nmonth"):
        month = int(groups["nmonth"])
    else:
        found = MONTHS.get(groups["month"].lower())
        if found is None:
            return None
        month = found
    try:
        return date(int(groups["year"]), month, int(groups["day"]))
    except ValueError:
        return None


def parse_date(text: str | None) -> date | None:
    """The calendar date written in ``text``, or None when it is not clearly a full date.

    >>> parse_date("27 February 2017"), parse_date("February 27, 2017")
    (datetime.date(2017, 2, 27), datetime.date(2017, 2, 27))
    >>> parse_date("27-FEB-1987 15:01:01.79"), parse_date("29 octobre 2012")
    (datetime.date(1987, 2, 27), datetime.date(2012, 10, 29))
    >>> parse_date("May 2017") is None
    True
    """
    if not text:
        return None
    match = _match(text)
    return _date_of(match) if match else None


def _zone_offset(zone: str) -> timezone | None:
    zone = zone.lower()
    if zone in ("z", "gmt", "utc", "ut"):
        return UTC
    if zone in _US_ZONES:
        return timezone(timedelta(hours=_US_ZONES[zone]))
    numeric = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", zone)
    if numeric:
        sign = -1 if numeric.group(1) == "-" else 1
        return timezone(
            sign * timedelta(hours=int(numeric.group(2)), minutes=int(numeric.group(3)))
        )
    return None


def parse_datetime(text: str | None) -> datetime | None:
    """An aware UTC datetime for ``text``, or None when no full date is written.

    >>> parse_datetime("Wednesday, 17 May 2023, 15:20 GMT")
    datetime.datetime(2023, 5, 17, 15, 20, tzinfo=datetime.timezone.utc)
    """
    if not text or not text.strip():
        return None
    stripped = text.strip()
    try:  # ISO 8601 in full, including fractions, "Z" and offsets
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        pass
    else:
        return _as_utc(parsed)
    match = _match(stripped)
    if match is None:
        try:  # RFC 822 shapes the patterns do not cover (for example two-digit years)
            parsed = parsedate_to_datetime(stripped)
        except (TypeError, ValueError, IndexError):
            return None
        return _as_utc(parsed)
    day = _date_of(match)
    if day is None:
        return None
    groups = match.groupdict()
    if not groups.get("hour"):
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    hour, minute = int(groups["hour"]), int(groups["minute"])
    second = int(groups["second"] or 0)
    ampm = (groups.get("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    tz = UTC
    if groups.get("zone"):
        found = _zone_offset(groups["zone"])
        if found is None:
            return None
        tz = found
    try:
        local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_LEADING = re.compile(
    r"^(?P<date>.{6,40}?\d{4})(?:,\s*[^.,\-–—:\d]{1,40})?(?:\s*(?:\.\s*)?[-–—:]\s+|\.\s*$|\s*$)"
)


def leading_date(paragraph: str) -> date | None:
    """The date of a dateline that opens ``paragraph``, or None.

    Accepts a paragraph that *is* a date ("February 27, 2017") or starts with one, optionally
    followed by a place, and a dateline separator ("22 mai 2012. - Prévu...", "22 août 2012,
    Espagne. - Le Parti..."), never a date inside a sentence.
    """
    match = _LEADING.match(paragraph.strip())
    if not match:
        return None
    return parse_date(match.group("date"))
