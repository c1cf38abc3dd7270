"""Memory and cold start of the scale benchmark: `sourcebook serve` and `sourcebook search` as
subprocesses, and a fresh process that searches in-process (VmRSS and VmHWM from /proc)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from _common import (
    HOST,
    QueryCase,
    free_port,
    progress_bar,
    sourcebook_command,
    start_server,
    stats_of,
    stop,
    wait_ready,
)
from sourcebook.search.request import SearchRequest

#: The in-process searcher: opens the archive, answers the first search, prints the time since
#: its interpreter started, runs the mix and prints its memory. Only sourcebook is imported.
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from sourcebook.config import Settings
from sourcebook.search.request import SearchRequest
from sourcebook.services import Archive

def rss():
    fields = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    keys = ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    return {k: int(fields[k].split()[0]) // 1024 for k in keys}

payload = json.load(sys.stdin)
archive = Archive(Settings(home=Path(payload["home"])))
opened = rss()
requests = [SearchRequest(**r) for r in payload["requests"]]
archive.search(requests[0])
print(json.dumps({"first_search_s": time.perf_counter() - t0}), flush=True)
for _ in range(payload["rounds"]):
    for r in requests:
        archive.search(r)
print(json.dumps({"after_open_mb": opened["VmRSS"], **rss()}), flush=True)
"""


def request_json(r: SearchRequest) -> dict[str, Any]:
    out = asdict(r)
    del out["access"]  # the benchmark reads as the operator: everything
    for key in ("date_from", "date_to"):
        if out[key] is not None:
            out[key] = out[key].isoformat()
    return out


def api_params(r: SearchRequest) -> str:
    params: list[tuple[str, str]] = [
        ("q", r.query),
        ("mode", r.mode),
        ("sort", r.sort),
        ("page", str(r.page)),
    ]
    params += [("country", c) for c in r.countries] + [("language", lang) for lang in r.languages]
    return urlencode(params)


def vm_status(pid: int) -> dict[str, float]:
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    keys = ("VmRSS", "VmHWM", "RssAnon", "RssFile")
    return {k: round(int(fields[k].split()[0]) / 1024, 1) for k in keys}


def measure_in_process(home: Path, cases: list[QueryCase], rounds: int) -> dict[str, Any]:
    payload = json.dumps(
        {"home": str(home), "rounds": rounds, "requests": [request_json(c.request) for c in cases]}
    )
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(payload)
        child.stdin.close()
        first = json.loads(child.stdout.readline())
        process_first = time.perf_counter() - started
        memory = json.loads(child.stdout.readline())
    return {
        "first_search_s": round(process_first, 3),
        "first_search_after_interpreter_s": round(first["first_search_s"], 3),
        "rss_after_open_mb": memory["after_open_mb"],
        "rss_steady_mb": memory["VmRSS"],
        "rss_peak_mb": memory["VmHWM"],
        "rss_anon_mb": memory["RssAnon"],
        "rss_file_mb": memory["RssFile"],
    }


def measure_cli(home: Path, word: str, runs: int = 3) -> list[float]:
    command = [*sourcebook_command(), "--archive", str(home), "search", word]
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        out.append(round(time.perf_counter() - started, 3))
    return out


def measure_serve(
    home: Path, cases: list[QueryCase], requests: int, work: Path, clients: int = 4
) -> dict[str, Any]:
    """Start `sourcebook serve`, time it to the first 200, send ``requests`` API searches from
    ``clients`` concurrent clients, and read its memory."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = work / "serve.log"
    first = cases[0].request.query or "report"
    started = time.perf_counter()
    server = start_server(home, port, log)
    try:
        asyncio.run(
            wait_ready(base, server, path=f"/api/search?{urlencode({'q': first})}", interval=0.02)
        )
        cold = time.perf_counter() - started
        after_start = vm_status(server.pid)
        urls = [f"/api/search?{api_params(cases[i % len(cases)].request)}" for i in range(requests)]
        times: list[float] = []
        errors = 0
        with httpx.Client(base_url=base, timeout=60) as client, progress_bar() as bar:
            task = bar.add_task("sourcebook serve", total=len(urls), unit="requests")

            def get(url: str) -> None:
                nonlocal errors
                t = time.perf_counter()
                if client.get(url).status_code != 200:
                    errors += 1
                times.append((time.perf_counter() - t) * 1000)
                bar.advance(task)

            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(get, urls))
        steady = vm_status(server.pid)
    finally:
        stop(server)
    return {
        "first_200_s": round(cold, 3),
        "rss_after_start_mb": after_start["VmRSS"],
        "rss_steady_mb": steady["VmRSS"],
        "rss_peak_mb": steady["VmHWM"],
        # private memory (heap, caches) and mapped index and database pages, which are shared
        # with the page cache and reclaimable
        "rss_anon_mb": steady["RssAnon"],
        "rss_file_mb": steady["RssFile"],
        "requests": len(times),
        "errors": errors,
        "clients": clients,
        **{f"http_{k}": v for k, v in stats_of(times).items()},
    }
