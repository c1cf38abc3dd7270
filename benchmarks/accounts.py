"""What accounts cost: password hashing, and the authentication of each request.

    python benchmarks/accounts.py [--requests 300]

Builds a small archive in a temporary folder with one editor, then prints
- argon2id hash and verify times with the default parameters (64 MiB, 3 passes) and with the
  cheapest allowed (what the tests use), median of 5;
- the median and p90 latency of ``GET /api/stats`` and ``GET /api/search?q=border`` in the
  app (in-process ASGI, lifespan running) for an anonymous visitor (the peer), a user's API
  token, and a session cookie, and each one's ratio to the anonymous figure: the cost of
  finding who is asking (a store lookup by hash on a reader thread).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from sourcebook.accounts.passwords import Passwords
from sourcebook.config import Settings
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.accounts import Accounts
from sourcebook.viewer import Viewer
from sourcebook.web.app import create_app

PASSWORD = "a long enough password for timing"
BODY = "Talks on border security were held in Dushanbe on Monday.\n\nFloods in Khatlon."


def time_hashing(settings: Settings, label: str) -> None:
    passwords = Passwords(settings)
    hashes, checks = [], []
    for _ in range(5):
        start = time.perf_counter()
        stored = passwords.hash(PASSWORD)
        hashes.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert passwords.verify(stored, PASSWORD)
        checks.append(time.perf_counter() - start)
    print(
        f"argon2id {label}: hash {statistics.median(hashes) * 1000:.1f} ms, "
        f"verify {statistics.median(checks) * 1000:.1f} ms (median of 5)"
    )


async def measure(settings: Settings, requests: int) -> None:
    with Archive(settings) as archive:
        accounts = Accounts(archive.store, settings)
        accounts.add_user("mona", "editor", PASSWORD, by=Viewer.system())
        token, _ = accounts.create_token("mona", "benchmark", "read")
        session = accounts.sign_in("mona", PASSWORD)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            kinds = {
                "anonymous": {},
                "API token": {"Authorization": f"Bearer {token}"},
                "session": {"Cookie": f"sourcebook_session={session.cookie}"},
            }
            for path in ("/api/stats", "/api/search?q=border"):
                base = 0.0
                for kind, headers in kinds.items():
                    for _ in range(20):  # warm up
                        (await client.get(path, headers=headers)).raise_for_status()
                    times = []
                    for _ in range(requests):
                        start = time.perf_counter()
                        response = await client.get(path, headers=headers)
                        times.append(time.perf_counter() - start)
                        assert response.status_code == 200, response.text
                    median = statistics.median(times) * 1000
                    p90 = statistics.quantiles(times, n=10)[-1] * 1000
                    base = base or median
                    print(
                        f"{path:<22} {kind:<10} median {median:6.2f} ms  p90 {p90:6.2f} ms  "
                        f"ratio to anonymous {median / base:4.2f}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "archive"
        settings = Settings(home=home)
        time_hashing(settings, "default (64 MiB, t=3)")
        time_hashing(
            Settings(home=home, password_hash_memory_kib=1024, password_hash_time_cost=1),
            "cheapest (1 MiB, t=1)",
        )
        sample = Path(folder) / "story.txt"
        sample.write_text(BODY, encoding="utf-8")
        with Archive(settings) as archive:
            archive.ingest([sample], IngestOptions(enrich=False))
        asyncio.run(measure(settings, args.requests))


if __name__ == "__main__":
    main()
