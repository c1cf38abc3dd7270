"""Harvest speed: one Sourcebook harvesting another over OAI-PMH, beside Sickle in the same run.

    python benchmarks/harvest.py --reuters ../shared/data/reuters21578 [--files 2]

A peer archive is built from Reuters-21578 stories and served by `sourcebook serve` (a separate
process) on loopback. Printed, each in records/s:
- Sickle (the reference OAI-PMH client, requests + lxml) listing every record, storing nothing;
- Sourcebook's harvest of the same endpoint: guarded fetch, oai_dc to documents, enrichment,
  store, index, and the original XML of every record kept;
- the same documents added directly (no network, no OAI), the cost of storing alone;
then the second run (an empty range: requests and seconds), and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import free_port, parse_reuters, reuters_files, start_server, stop, timed, wait_ready
from sourcebook.config import Settings
from sourcebook.services import Archive, IngestOptions
from sourcebook.services.sources import add_source, harvest_source
from sourcebook.sources.model import Source


def sickle_listing(endpoint: str) -> int:
    from sickle import Sickle

    return sum(1 for _ in Sickle(endpoint).ListRecords(metadataPrefix="oai_dc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuters", type=Path, required=True)
    parser.add_argument("--files", type=int, default=2, help="Reuters SGML files (1,000 each)")
    args = parser.parse_args()
    docs = parse_reuters(reuters_files(args.reuters)[: args.files])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        peer = Settings(home=root / "peer")
        with Archive(peer) as archive:
            archive.add_documents(docs, IngestOptions(enrich=False))
            held = archive.count()
        time.sleep(1.1)  # the harvest's responseDate falls after every datestamp
        port = free_port()
        server = start_server(peer.home, port, root / "serve.log")
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_ready(base, server))
            endpoint = f"{base}/oai"
            sickle_s, listed = timed(lambda: sickle_listing(endpoint))
            mine = Settings(
                home=root / "harvester",
                fetch_allow_hosts=["127.0.0.1"],
                fetch_host_interval_seconds=0,
            )
            with Archive(mine) as archive:
                add_source(archive, Source("peer", endpoint, "oai"))
                harvest_s, first = timed(lambda: harvest_source(archive, "peer"))
                again_s, second = timed(lambda: harvest_source(archive, "peer"))
        finally:
            stop(server)
        direct = Settings(home=root / "direct")
        with Archive(direct) as archive:
            fresh = [d for d in parse_reuters(reuters_files(args.reuters)[: args.files])]
            direct_s, _ = timed(lambda: archive.add_documents(fresh))
    print(f"peer holds {held:,} records; Sickle listed {listed:,}; harvest added {first.added:,}")
    print(f"Sickle listing (no storage)     {listed / sickle_s:8.0f} records/s  ({sickle_s:.1f} s)")
    print(
        f"Sourcebook harvest (OAI-PMH)    {first.items / harvest_s:8.0f} records/s  "
        f"({harvest_s:.1f} s, {first.requests} requests, {first.originals:,} originals kept)"
    )
    print(
        f"same documents added directly  {len(fresh) / direct_s:8.0f} docs/s     ({direct_s:.1f} s)"
    )
    print(
        f"second run: {second.items} records, {second.requests} requests, {again_s:.2f} s "
        f"({second.status})"
    )
    print(
        f"ratios: harvest / Sickle listing {harvest_s / sickle_s:.2f}x the time; "
        f"harvest / direct add {harvest_s / direct_s:.2f}x"
    )
    if first.added != held or second.items != 0:
        raise SystemExit("the harvest did not bring every record once")


if __name__ == "__main__":
    main()
