"""Property-based testing of the API from its own OpenAPI schema (schemathesis), against the app
served by uvicorn on 127.0.0.1, authenticated with an editor's API token: whatever the request,
valid or not, nothing gets a server error, and every response matches the schema (status
codes, media types, bodies).

schemathesis' pytest loader (``from_fixture``) does not run under pytest 9, so each operation's
Hypothesis strategy is driven here with ``@given``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from sourcebook.config import Settings
from sourcebook.services.accounts import Accounts
from sourcebook.store import open_store
from sourcebook.viewer import Viewer
from sourcebook.web.app import create_app
from tests.web.client import build_archive, serve_in_thread

pytestmark = pytest.mark.slow
schemathesis = pytest.importorskip("schemathesis")
checks = pytest.importorskip("schemathesis.checks")

# Building the app opens nothing (the archive opens in its lifespan): this only reads the routes.
OPERATIONS = [
    (method.upper(), path)
    for path, item in create_app(Settings(home=Path("unused"))).openapi()["paths"].items()
    for method in item
]
EXAMPLES = 60
#: Checks that cannot hold for an operation, and why.
EXCLUDED_CHECKS = {
    # A schema-valid query string can still be a malformed query ("(Kabul"), answered with 400.
    ("GET", "/api/search"): ["positive_data_acceptance"],
    # The same search parameters (and dates given as text: "2017", "2017-02", a start after
    # the end), answered with 400 when they cannot be read.
    ("GET", "/api/search/export"): ["positive_data_acceptance"],
    # Multipart values carry no types: an "integer" file is just a file whose text is digits.
    ("POST", "/api/ingest"): ["negative_data_rejection"],
    # A saved search's query and filters are checked as a search's are: a schema-valid query
    # can be malformed and a filter value unknown (400), and a digest needs an e-mail address
    # when the account has none (422).
    ("POST", "/api/saved-searches"): ["positive_data_acceptance"],
    # A share names a user or group that must exist: any other name is refused (422).
    ("PUT", "/api/folders/{folder_id}/shares"): ["positive_data_acceptance"],
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    config = build_archive(tmp_path_factory.mktemp("schema") / "archive", max_file_bytes=20_000)
    with serve_in_thread(create_app(config)) as base_url:
        yield config, base_url


@pytest.fixture(scope="module")
def api_schema(served: tuple[Settings, str]) -> Any:
    return schemathesis.openapi.from_url(f"{served[1]}/api/openapi.json")


@pytest.fixture(scope="module")
def auth_header(served: tuple[Settings, str]) -> dict[str, str]:
    """An editor's API token of write scope. With a user in the archive accounts apply, so the
    run is authenticated as a caller who may upload and delete (without it, writes get 401)."""
    config = served[0]
    store = open_store(config)
    try:
        accounts = Accounts(store, config)
        accounts.add_user("schemathesis", "editor", None, by=Viewer.system())
        token, _ = accounts.create_token("schemathesis", "schemathesis run", "write")
    finally:
        store.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_its_schema_and_never_fails(
    api_schema: Any, auth_header: dict[str, str], method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    definition = operation.definition.raw
    if mode == "negative" and not (definition.get("parameters") or definition.get("requestBody")):
        pytest.skip("no parameters or body to make invalid")
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))
    excluded = [getattr(checks, name) for name in EXCLUDED_CHECKS.get((method, path), [])]

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=auth_header, excluded_checks=excluded)

    check()
