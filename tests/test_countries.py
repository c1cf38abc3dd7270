"""Country and language names to ISO codes."""

from __future__ import annotations

import pytest

from sourcebook.countries import country_name, resolve_country, resolve_language


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Tajikistan", "TJ"),
        ("TJK", "TJ"),
        ("tj", "TJ"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Côte d’Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
        # list order, as the UN and ISO print names
        ("Congo, Democratic Republic of the", "CD"),
        ("Congo, Republic of the", "CG"),
        ("Iran, Islamic Republic of", "IR"),
        ("Venezuela (Bolivarian Republic of)", "VE"),
        ("Micronesia (Federated States of)", "FM"),
        ("Macedonia, the former Yugoslav Republic of", "MK"),
        ("Korea, South", "KR"),
        ("Gambia, The", "GM"),
        ("Libyan Arab Jamahiriya", "LY"),
    ],
)
def test_resolve_country(name: str, code: str) -> None:
    assert resolve_country(name) == code


@pytest.mark.parametrize(
    "name", ["", "  ", "Atlantis", "Nowhere, Land of", "Narnia (Kingdom of)", "Tajikistan, Russia"]
)
def test_unknown_country_is_none(name: str) -> None:
    assert resolve_country(name) is None


def test_country_name_and_language() -> None:
    assert country_name("XK") == "Kosovo"
    assert country_name("TJ") == "Tajikistan"
    assert country_name("ZZ") == "ZZ"
    assert resolve_language("French") == "fr"
    assert resolve_language("fra") == "fr"
    assert resolve_language("pt-BR") == "pt"
    assert resolve_language("Klingon") is None
