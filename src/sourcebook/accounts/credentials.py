"""Session ids, CSRF tokens and API tokens: long random values, stored only as SHA-256 hashes.

An API token reads ``sbk_<prefix>_<secret>``: the prefix (8 characters) is public, finds the
token's row and tells tokens apart in lists; the whole token is compared by its hash in
constant time. A session cookie carries the session id signed with the archive's secret key
(HMAC-SHA256), so a forged cookie is refused before the store is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sourcebook.config import Settings
from sourcebook.errors import ConfigError

TOKEN_PREFIX = "sbk_"
_PREFIX_CHARS = 8
#: The key file made in the archive folder when no key is set.
SECRET_KEY_FILE = "secret.key"


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_secret(given: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(given), stored_hash)


def new_api_token() -> tuple[str, str]:
    """(token, prefix): the token is shown once to its owner; the prefix is kept in clear."""
    prefix = TOKEN_PREFIX + secrets.token_hex(_PREFIX_CHARS // 2)
    return f"{prefix}_{new_secret()}", prefix


def token_prefix(token: str) -> str | None:
    """The prefix of something that looks like one of our API tokens, else None."""
    token = token.strip()
    size = len(TOKEN_PREFIX) + _PREFIX_CHARS
    prefix, sep, rest = token[:size], token[size : size + 1], token[size + 1 :]
    if not prefix.startswith(TOKEN_PREFIX) or sep != "_" or not rest:
        return None
    if any(c not in "0123456789abcdef" for c in prefix[len(TOKEN_PREFIX) :]):
        return None
    return prefix


def sign(value: str, key: bytes) -> str:
    mac = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


#: Longest signed value checked (a session cookie is about 110 characters).
MAX_SIGNED_CHARS = 2048


def unsign(signed: str, key: bytes) -> str | None:
    """The value of a cookie signed with ``key``, or None when the signature does not match."""
    value, sep, mac = signed.rpartition(".")
    if not sep or len(signed) > MAX_SIGNED_CHARS:
        return None
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


def secret_key(settings: Settings) -> bytes:
    """The key that signs session cookies: ``SOURCEBOOK_SECRET_KEY``, else the archive's
    ``secret.key`` file, created (mode 0600) with a random key on first use."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value().strip():
        return settings.secret_key.get_secret_value().strip().encode("utf-8")
    path: Path = settings.home / SECRET_KEY_FILE
    try:
        if not path.exists():
            settings.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(new_secret() + "\n")
        key = path.read_text(encoding="utf-8").strip()
    except FileExistsError:  # another process made it a moment ago
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read or create the secret key {path}: {exc}; set SOURCEBOOK_SECRET_KEY"
        ) from exc
    if len(key) < 16:
        raise ConfigError(f"the secret key in {path} is too short (16 characters at least)")
    return key.encode("utf-8")
