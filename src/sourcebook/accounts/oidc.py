"""Single sign-on through OpenID Connect (authorization code flow with PKCE), optional.

Authlib builds the PKCE challenge and the authorization URL; joserfc (Authlib's JOSE library)
checks the ID token: its signature against the provider's published keys (JWKS), and the
claims ``iss`` (the configured issuer), ``aud`` (our client id), ``exp``, ``sub`` and ``nonce``
(the one this browser's sign-in started with). The provider is configured by the admin and
trusted as such: it may live on a private network, unlike the addresses Sourcebook fetches for
users. Every call has a time limit and a size limit, and failures become readable refusals.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from sourcebook.config import Settings
from sourcebook.errors import ConfigError, NotAuthenticated

#: Seconds per call to the provider, and the largest answer read from it.
HTTP_SECONDS = 10.0
MAX_ANSWER_BYTES = 1024 * 1024
#: ID token signature algorithms accepted (asymmetric only: the client secret signs nothing).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser's sign-in started with, kept in a signed cookie until it returns."""

    state: str
    nonce: str
    verifier: str
    next: str = "/"

    def dumps(self) -> str:
        return json.dumps([self.state, self.nonce, self.verifier, self.next])

    @classmethod
    def loads(cls, text: str) -> PendingSignIn | None:
        try:
            state, nonce, verifier, target = json.loads(text)
        except (ValueError, TypeError):
            return None
        if not all(isinstance(v, str) for v in (state, nonce, verifier, target)):
            return None
        return cls(state, nonce, verifier, target)


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer.strip())


class OidcClient:
    """The archive as an OpenID Connect client of one provider."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise ConfigError("single sign-on needs SOURCEBOOK_OIDC_ISSUER and _CLIENT_ID")
        self.settings = settings
        self.issuer = settings.oidc_issuer.strip().rstrip("/")
        self._metadata: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        return self._call("GET", url, **kwargs)

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        import httpx  # the oidc extra's: the embedded archive needs none of it

        try:
            with httpx.Client(timeout=HTTP_SECONDS, follow_redirects=False) as client:
                response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise NotAuthenticated(f"the sign-on provider did not answer ({exc})") from exc
        if len(response.content) > MAX_ANSWER_BYTES:
            raise NotAuthenticated("the sign-on provider's answer is too large")
        try:
            body = response.json()
        except ValueError as exc:
            raise NotAuthenticated("the sign-on provider's answer is not JSON") from exc
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise NotAuthenticated(
                f"the sign-on provider refused ({response.status_code} {str(error)[:100]})"
            )
        return body

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (read once), checked to name our issuer."""
        with self._lock:
            if self._metadata is None:
                found = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                    raise NotAuthenticated("the sign-on provider names another issuer")
                for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(name), str):
                        raise NotAuthenticated(f"the sign-on provider gives no {name}")
                self._metadata = found
            return self._metadata

    def start(self, redirect_uri: str, target: str) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the browser to, and what to remember."""
        from authlib.common.security import generate_token
        from authlib.common.urls import add_params_to_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        pending = PendingSignIn(generate_token(32), generate_token(32), generate_token(64), target)
        url = add_params_to_uri(
            self.metadata()["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self.settings.oidc_client_id),
                ("redirect_uri", redirect_uri),
                ("scope", self.settings.oidc_scopes),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, pending

    def finish(self, redirect_uri: str, code: str, pending: PendingSignIn) -> dict[str, Any]:
        """Exchange the code for tokens and return the ID token's verified claims."""
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet
        from joserfc.jwt import JWTClaimsRegistry

        metadata = self.metadata()
        secret = self.settings.oidc_client_secret
        tokens = self._call(
            "POST",
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code[:2000],
                "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier,
                "client_id": self.settings.oidc_client_id,
            },
            auth=(self.settings.oidc_client_id, secret.get_secret_value()) if secret else None,
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise NotAuthenticated("the sign-on provider sent no ID token")
        try:
            keys = KeySet.import_key_set(self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.settings.oidc_client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
            ).validate(token.claims)
        except (JoseError, ValueError, KeyError) as exc:
            raise NotAuthenticated(f"the sign-on provider's ID token is not valid ({exc})") from exc
        return dict(token.claims)
