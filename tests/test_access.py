from __future__ import annotations

import pytest

from sourcebook.access import EVERYTHING, AccessFilter, CollectionPolicy, access_for
from sourcebook.errors import ConfigError
from sourcebook.viewer import Viewer

POLICIES = [
    CollectionPolicy("staff", "internal"),
    CollectionPolicy("legal", "restricted", ("lawyers",)),
    CollectionPolicy("open", "public"),
]


def test_each_viewer_sees_what_the_policies_allow() -> None:
    anonymous = access_for(Viewer.anonymous(), POLICIES, "public")
    assert anonymous.hidden == {"staff", "legal"}
    assert anonymous.allows("open") and anonymous.allows("unfiled-elsewhere")
    reader = access_for(Viewer(user="ana", role="reader"), POLICIES, "public")
    assert reader.hidden == {"legal"}
    lawyer = Viewer(user="bo", role="reader", groups=frozenset({"lawyers"}))
    assert access_for(lawyer, POLICIES, "public").unrestricted
    admin = Viewer(user="cy", role="admin")
    assert access_for(admin, POLICIES, "none") is EVERYTHING
    assert access_for(Viewer.system(), POLICIES, "none") is EVERYTHING


def test_an_archive_closed_to_anonymous_visitors() -> None:
    closed = access_for(Viewer.anonymous(), POLICIES, "none")
    assert closed.nothing and not closed.allows("open") and not closed.unrestricted
    assert not access_for(Viewer(user="ana", role="reader"), POLICIES, "none").nothing


def test_a_policy_must_name_a_known_visibility() -> None:
    with pytest.raises(ConfigError, match="unknown visibility"):
        CollectionPolicy("x", "secret")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        CollectionPolicy("", "public")
    assert AccessFilter(hidden=frozenset({"b", "a"})).excluded == ("a", "b")
