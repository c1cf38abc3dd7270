"""Single sign-on against a real, local OpenID Connect provider: a small Starlette app served by
uvicorn on 127.0.0.1 that implements discovery, authorize (PKCE), token and JWKS, and signs ID
tokens with an RSA key (joserfc). The archive talks to it over HTTP as it would to any provider.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

pytest.importorskip("authlib", reason="single sign-on needs the oidc extra")
joserfc = pytest.importorskip("joserfc", reason="single sign-on needs the oidc extra")

from authlib.oauth2.rfc7636 import create_s256_code_challenge  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import RSAKey  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse, RedirectResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from sourcebook.config import Settings  # noqa: E402
from sourcebook.services import Archive  # noqa: E402
from sourcebook.services.accounts import Accounts  # noqa: E402
from sourcebook.store.accounts_base import AuditFilter  # noqa: E402
from sourcebook.viewer import Viewer  # noqa: E402
from sourcebook.web.app import create_app  # noqa: E402
from tests.web.client import Client, build_archive, serve_in_thread  # noqa: E402
from tests.web.test_accounts_web import CHEAP  # noqa: E402

CLIENT_ID = "sourcebook-test"
CLIENT_SECRET = "provider-secret-for-tests"


@dataclass
class Provider:
    """A minimal OpenID provider: whoever ``user`` names is signed in at once."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    issuer: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    #: Claims to spoil in the next ID token (a misbehaving or hostile provider).
    spoil: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert q["code_challenge_method"] == "S256" and "openid" in q["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": q["nonce"],
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
        }
        return RedirectResponse(
            f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302
        )

    async def token(self, request: Request) -> Response:
        form = await request.form()
        auth = httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET)._auth_header
        if request.headers.get("authorization") != auth:
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = self.codes.pop(str(form["code"]), None)
        if grant is None or grant["redirect_uri"] != form["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, 400)
        if create_s256_code_challenge(str(form["code_verifier"])) != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.user,
            **self.spoil,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return JSONResponse({"access_token": "at", "token_type": "Bearer", "id_token": id_token})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    provider = Provider()
    with serve_in_thread(provider.app()) as base_url:  # type: ignore[arg-type]
        provider.issuer = base_url
        yield provider


def sso_archive(tmp_path: Path, provider: Provider, **extra: Any) -> Settings:
    config = build_archive(
        tmp_path / "archive",
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        **CHEAP,
        **extra,
    )
    with Archive(config) as archive:
        accounts = Accounts(archive.store, config)
        accounts.add_user("mona", "editor", None, by=Viewer.system(), email="Mona@Example.org")
    return config


def sign_in_through(client: Client, provider: Provider) -> httpx.Response:
    """Start at the archive, visit the provider, come back: the archive's last answer."""
    started = client.get("/signin/oidc", params={"next": "/account"})
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(provider.issuer + "/authorize?")
    at_provider = httpx.get(started.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/signin/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def test_a_provider_user_signs_in_to_the_account_with_their_email(
    tmp_path: Path, provider: Provider
) -> None:
    config = sso_archive(tmp_path, provider)
    provider.spoil = {}
    provider.user = {"sub": "u-1", "email": "mona@example.org", "email_verified": True}
    with Client(create_app(config)) as client:
        assert "Sign in with single sign-on" in client.get("/signin").text
        done = sign_in_through(client, provider)
        assert done.status_code == 303 and done.headers["location"] == "/account"
        assert "HttpOnly" in done.headers["set-cookie"]
        page = client.get("/account")
        assert page.status_code == 200 and "editor" in page.text
    # the subject is now bound: a later sign-in finds her by it, whatever her e-mail says
    provider.user = {"sub": "u-1", "email": "mona@new.example.org", "email_verified": True}
    with Client(create_app(config)) as client:
        assert sign_in_through(client, provider).status_code == 303
    with Archive(config) as archive:
        accounts = Accounts(archive.store, config)
        assert accounts.user("mona").oidc_subject == f"{provider.issuer}|u-1"
        entries = accounts.audit.entries(AuditFilter(action="sign-in"), 10)
        assert [(e.actor, e.detail) for e in entries] == [("mona", "single sign-on")] * 2


@pytest.mark.parametrize(
    ("user", "spoil", "message"),
    [
        ({"sub": "u-2", "email": "stranger@example.org", "email_verified": True}, {}, "no account"),
        ({"sub": "u-3", "email": "mona@example.org", "email_verified": False}, {}, "no account"),
        (
            {"sub": "u-4", "email": "mona@example.org", "email_verified": True},
            {"nonce": "x"},
            "not valid",
        ),
        (
            {"sub": "u-5", "email": "mona@example.org", "email_verified": True},
            {"aud": "other"},
            "not valid",
        ),
        (
            {"sub": "u-6", "email": "mona@example.org", "email_verified": True},
            {"iss": "http://evil.example"},
            "not valid",
        ),
        (
            {"sub": "u-7", "email": "mona@example.org", "email_verified": True},
            {"exp": 1},
            "not valid",
        ),
    ],
)
def test_strangers_unverified_addresses_and_bad_tokens_are_refused(
    tmp_path: Path, provider: Provider, user: dict[str, Any], spoil: dict[str, Any], message: str
) -> None:
    config = sso_archive(tmp_path, provider)
    provider.user, provider.spoil = user, spoil
    with Client(create_app(config)) as client:
        refused = sign_in_through(client, provider)
        assert refused.status_code == 400 and message in refused.text
        assert "sourcebook_session" not in refused.headers.get("set-cookie", "")
    provider.spoil = {}


def test_a_forged_or_replayed_callback_is_refused(tmp_path: Path, provider: Provider) -> None:
    config = sso_archive(tmp_path, provider)
    provider.user = {"sub": "u-1", "email": "mona@example.org", "email_verified": True}
    with Client(create_app(config)) as client:
        # no sign-in was started by this browser: there is no pending cookie
        forged = client.get("/signin/oidc/callback", params={"code": "c", "state": "s"})
        assert forged.status_code == 400 and "expired" in forged.text
        started = client.get("/signin/oidc")
        at_provider = httpx.get(started.headers["location"], follow_redirects=False)
        back = urlsplit(at_provider.headers["location"])
        tampered = back.query.replace("state=", "state=x")
        assert client.get(f"{back.path}?{tampered}").status_code == 400


def test_new_users_are_made_readers_only_when_asked(tmp_path: Path, provider: Provider) -> None:
    config = sso_archive(tmp_path, provider, oidc_create_users=True)
    provider.user = {"sub": "u-9", "email": "sam@example.org", "email_verified": True}
    with Client(create_app(config)) as client:
        assert sign_in_through(client, provider).status_code == 303
        assert "reader" in client.get("/account").text
    with Archive(config) as archive:
        assert Accounts(archive.store, config).user("sam@example.org").role == "reader"


def test_without_a_provider_there_is_no_single_sign_on(tmp_path: Path) -> None:
    config = build_archive(tmp_path / "archive", **CHEAP)
    with Client(create_app(config)) as client:
        assert client.get("/signin/oidc").status_code == 404
        assert "single sign-on" not in client.get("/signin").text
