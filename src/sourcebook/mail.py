"""Sending mail through the SMTP server the archive is told (``SOURCEBOOK_SMTP_URL``).

``smtp://[user:password@]host[:port]`` (plain, port 25), ``smtp://...?starttls=true`` (upgraded
with STARTTLS, port 587) or ``smtps://...`` (TLS from the start, port 465). Sending is bounded in
time; any failure becomes a :class:`~sourcebook.errors.MailError` with the server's reason.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sourcebook.errors import ConfigError, MailError

#: Seconds to wait for the server at each step.
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    user: str = ""
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(
                "SOURCEBOOK_SMTP_URL must look like smtp://host:25, smtp://user:pass@host:587"
                "?starttls=true or smtps://host:465"
            )
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if tls else 587 if starttls else 25)
        except ValueError as exc:
            raise ConfigError(f"SOURCEBOOK_SMTP_URL has a bad port: {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            starttls=starttls,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )

    def send(self, message: EmailMessage) -> None:
        """Send one message; MailError when the server cannot be reached or refuses it."""
        try:
            if self.tls:
                context = ssl.create_default_context()
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"sending mail through {self.host}:{self.port} failed: {exc}") from exc
