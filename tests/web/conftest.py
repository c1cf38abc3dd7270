"""One archive and one app per test module (building an archive takes about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.client import Client, build_archive, open_client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    config = build_archive(tmp_path_factory.mktemp("web") / "archive")
    with open_client(config) as client:
        yield client
