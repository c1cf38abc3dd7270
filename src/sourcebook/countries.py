"""Country and language codes: turn what users and sources write into ISO codes.

``resolve_country("Russia") == "RU"``; ``resolve_language("French") == "fr"``. Used to normalise
source metadata, query fields (``country:Tajikistan``) and filters. Names come from pycountry
(ISO 3166-1 names, official and common names) plus the short forms people actually write.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

#: Short or historical forms that ISO names do not cover.
_ALIASES: dict[str, str] = {
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "us": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "south korea": "KR",
    "north korea": "KP",
    "laos": "LA",
    "vietnam": "VN",
    "moldova": "MD",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "kyrgyzstan": "KG",
    "kyrgyz republic": "KG",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "burma": "MM",
    "drc": "CD",
    "dr congo": "CD",
    "democratic republic of the congo": "CD",
    "congo-kinshasa": "CD",
    "congo-brazzaville": "CG",
    "palestine": "PS",
    "kosovo": "XK",
    "turkey": "TR",
    "micronesia": "FM",
    "vatican": "VA",
    "brunei": "BN",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "east timor": "TL",
    "taiwan": "TW",
    "libyan arab jamahiriya": "LY",
    "the former yugoslav republic of macedonia": "MK",
    "zaire": "CD",
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().casefold().replace("\u2019", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


@cache
def _country_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        table[code.casefold()] = code
        table[country.alpha_3.casefold()] = code
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[_fold(value)] = code
    table.update(_ALIASES)
    table["xk"] = "XK"
    return table


_INVERTED = re.compile(r"^(?P<head>[^,()]+?)\s*(?:,\s*(?P<tail>[^,()]+)|\((?P<paren>[^()]+)\))$")


def _uninvert(folded: str) -> str:
    """UN/ISO list order back to reading order: "congo, democratic republic of the" ->
    "democratic republic of the congo", "venezuela (bolivarian republic of)" -> "bolivarian
    republic of venezuela"."""
    match = _INVERTED.match(folded)
    if not match:
        return ""
    tail = (match["tail"] or match["paren"] or "").strip()
    return f"{tail} {match['head'].strip()}" if tail else ""


def resolve_country(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code for a code or name, or None when unknown.

    Names are matched folded (case, accents); list-order names as the UN and ISO print them
    ("Congo, Democratic Republic of the", "Venezuela (Bolivarian Republic of)") are read in
    reading order too. A list of names ("Tajikistan, Afghanistan") is not a name: None.
    """
    if not value or not value.strip():
        return None
    table = _country_table()
    folded = _fold(value)
    found = table.get(folded)
    if found or ("," not in folded and "(" not in folded):
        return found
    reading = _uninvert(folded)
    if not reading:
        return None
    # "Gambia, The" reads "the gambia", which ISO calls "Gambia"
    return table.get(reading) or table.get(reading.removeprefix("the "))


@cache
def country_name(code: str) -> str:
    """A readable name for an alpha-2 code (the code itself when unknown)."""
    if code == "XK":
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


@cache
def _language_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if not code:
            continue
        table[code] = code
        table[lang.alpha_3] = code
        table[_fold(lang.name)] = code
    return table


def resolve_language(value: str) -> str | None:
    """The ISO 639-1 code for a code or English name ("French", "fra", "fr"), or None."""
    if not value or not value.strip():
        return None
    folded = _fold(value)
    table = _language_table()
    return table.get(folded) or table.get(folded.split("-")[0].split("_")[0])


@cache
def language_name(code: str) -> str:
    lang = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    return str(lang.name) if lang is not None else code
