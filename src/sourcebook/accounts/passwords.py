"""Passwords, hashed with argon2id (by default RFC 9106's low-memory profile: 64 MiB, 3 passes).

Only the hash is stored; it records its own parameters, so a hash made with older or cheaper
parameters still verifies and is replaced at the next sign-in (``needs_rehash``). Passwords
have a length floor and a ceiling: argon2 hashes any length, but a megabyte-long "password" is a
way to make the server work, not a password.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sourcebook.config import Settings
from sourcebook.errors import SourcebookError

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024


class WeakPassword(SourcebookError):
    """A new password is too short or too long."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD_CHARS} characters")


def generate_password() -> str:
    """A random password for ``user reset`` (shown once): 20 URL-safe characters."""
    return secrets.token_urlsafe(15)


class Passwords:
    """Hashes and checks passwords with the archive's argon2 parameters."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=4,
        )

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Checked against when the account has no password (or does not exist), so that "no
        such user" takes as long as "wrong password" and timing does not tell which names exist."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        check_new_password(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``; an empty hash (no password set) never
        matches, though it takes the time a check takes."""
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
