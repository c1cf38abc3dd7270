"""Figures of the scale benchmark: the targets and verdicts, the console report, a Markdown
table of every size (for docs/performance.md) and the growth plot."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path
from typing import Any

from rich.table import Table

from _common import console

#: Targets at 1M passages on 2 cores (issue 6).
TARGETS = {
    "p50_ms": 10.0,
    "p99_ms": 50.0,
    "serve_rss_mb": 1536.0,
    "cold_start_s": 2.0,
    "ingest_docs_per_s": 1000.0,
}


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(int(mem.split()[1]) / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def verdicts(fig: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ours = fig["search"]["sourcebook"]["threads1"]
    cold = max(
        statistics.median(fig["cold_start"]["cli_search_s"]), fig["cold_start"]["serve_first_200_s"]
    )
    checks = {
        "p50_ms": (ours["p50_ms"], "<="),
        "p99_ms": (ours["p99_ms"], "<="),
        "serve_rss_mb": (fig["memory"]["serve"]["rss_peak_mb"], "<="),
        "cold_start_s": (cold, "<="),
        "ingest_docs_per_s": (fig["build"]["ingest_without_enrichment"]["docs_per_s"], ">="),
    }
    out = {}
    for name, (value, op) in checks.items():
        target = TARGETS[name]
        ok = value <= target if op == "<=" else value >= target
        out[name] = {"value": value, "target": target, "meets": ok}
    return out


def print_size(fig: dict[str, Any]) -> None:
    n, b, s = fig["passages"], fig["build"], fig["search"]
    arch, plain = b["archive"], b["ingest_without_enrichment"]
    console.rule(f"[bold]{n:,} passages, {arch['documents']:,} documents")
    console.print(
        f"ingest (enrichment on): {arch['docs_per_s']:,} docs/s, {arch['passages_per_s']:,} passages/s"
        f" ({arch['seconds']:,} s); without enrichment: {plain['docs_per_s']:,} docs/s,"
        f" {plain['passages_per_s']:,} passages/s; raw tantivy {b['raw_tantivy']['docs_per_s']:,} docs/s;"
        f" bm25s {b['bm25s']['docs_per_s']:,} docs/s"
    )
    d = b["disk_mb"]
    console.print(
        f"on disk: database {d['database']:,} MB, index {d['index']:,} MB"
        f" (raw tantivy {d['raw_tantivy']:,} MB with stored texts, bm25s {d['bm25s']:,} MB)"
    )
    table = Table("engine", "threads", "p50 ms", "p95 ms", "p99 ms", "queries/s")
    for name, label in (
        ("sourcebook", "sourcebook full path"),
        ("raw_tantivy", "raw tantivy"),
        ("bm25s", "bm25s (bags of words)"),
    ):
        for t in (1, 2):
            x = s[name][f"threads{t}"]
            table.add_row(
                label,
                str(t),
                f"{x['p50_ms']:.2f}",
                f"{x['p95_ms']:.2f}",
                f"{x['p99_ms']:.2f}",
                f"{x['qps']:.1f}",
            )
    console.print(table)
    kinds = Table("kind", "sourcebook p50", "p99", "raw tantivy p50", "p99")
    for kind, x in s["sourcebook"]["by_kind"].items():
        y = s["raw_tantivy"]["by_kind"][kind]
        kinds.add_row(
            kind,
            f"{x['p50_ms']:.1f}",
            f"{x['p99_ms']:.1f}",
            f"{y['p50_ms']:.2f}",
            f"{y['p99_ms']:.2f}",
        )
    console.print(kinds)
    r = fig["ratios"]
    console.print(
        f"ratios sourcebook/raw tantivy: p50 {r['raw_p50']}, p95 {r['raw_p95']}, p99 {r['raw_p99']};"
        f" sourcebook/bm25s on the same bags of words: p50 {r['bm25s_p50']}, p99 {r['bm25s_p99']}"
    )
    m, c = fig["memory"], fig["cold_start"]
    console.print(
        f"serve RSS: {m['serve']['rss_after_start_mb']:,} MB after start, {m['serve']['rss_steady_mb']:,} MB"
        f" steady, {m['serve']['rss_peak_mb']:,} MB peak ({m['serve']['requests']} API searches,"
        f" {m['serve']['errors']} errors, p50 {m['serve']['http_p50_ms']} ms);"
        f" in-process: {m['in_process']['rss_after_open_mb']:,} MB open, {m['in_process']['rss_peak_mb']:,} MB peak"
    )
    console.print(
        f"cold start: `sourcebook search` {c['cli_search_s']} s; process start to first search"
        f" {c['in_process_first_search_s']} s; `sourcebook serve` to first 200 {c['serve_first_200_s']} s"
    )
    for name, v in fig["targets"].items():
        word = "meets" if v["meets"] else "[red]MISSES[/red]"
        console.print(
            f"target {name} {v['target']:,}: {v['value']:,} {word}"
            + ("" if n >= 1_000_000 else " (targets are set at 1M)")
        )


def plot(figures: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = sorted(figures, key=lambda f: f["passages"])
    xs = [f["passages"] for f in figures]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for engine, label, color in (
        ("sourcebook", "sourcebook full path", "tab:blue"),
        ("raw_tantivy", "raw tantivy", "tab:orange"),
        ("bm25s", "bm25s", "tab:green"),
    ):
        for p, style in (("p50", "-o"), ("p99", "--s")):
            left.plot(
                xs,
                [f["search"][engine]["threads1"][f"{p}_ms"] for f in figures],
                style,
                color=color,
                label=f"{label} {p}",
            )
    for p in ("p50", "p99"):
        left.axhline(TARGETS[f"{p}_ms"], color="grey", lw=0.8, ls=":")
        left.annotate(f"target {p}", (xs[0], TARGETS[f"{p}_ms"]), fontsize=7, color="grey")
    left.set(
        xscale="log",
        yscale="log",
        xlabel="passages",
        ylabel="latency, ms (1 thread)",
        title="search latency",
    )
    left.legend(fontsize=7)
    for key, label in (("rss_peak_mb", "serve peak"), ("rss_steady_mb", "serve steady")):
        right.plot(xs, [f["memory"]["serve"][key] for f in figures], marker="o", label=label)
    right.plot(
        xs,
        [f["memory"]["in_process"]["rss_peak_mb"] for f in figures],
        marker="s",
        label="in-process peak",
    )
    right.axhline(TARGETS["serve_rss_mb"], color="grey", lw=0.8, ls=":")
    right.annotate("target serve RSS", (xs[0], TARGETS["serve_rss_mb"]), fontsize=7, color="grey")
    right.set(xscale="log", xlabel="passages", ylabel="RSS, MB", title="memory")
    right.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def markdown(figures: list[dict[str, Any]]) -> str:
    """The figures of every size as Markdown tables (rows: figures; columns: sizes)."""
    figures = sorted(figures, key=lambda f: f["passages"])

    def row(label: str, get: Any, fmt: str = "{:,}") -> str:
        cells = []
        for f in figures:
            try:
                cells.append(fmt.format(get(f)))
            except (KeyError, TypeError):
                cells.append("")
        return f"| {label} | " + " | ".join(cells) + " |"

    def search(engine: str, threads: int, key: str) -> Any:
        return lambda f: f["search"][engine][f"threads{threads}"][key]

    head = "| | " + " | ".join(f"{f['passages']:,} passages" for f in figures) + " |"
    lines = [head, "|---|" + "---:|" * len(figures)]
    b = "build"
    lines += [
        row("documents", lambda f: f["documents"]),
        row("ingest, enrichment on: docs/s", lambda f: f[b]["archive"]["docs_per_s"]),
        row("ingest, enrichment on: passages/s", lambda f: f[b]["archive"]["passages_per_s"]),
        row("ingest, enrichment on: minutes", lambda f: f[b]["archive"]["seconds"] / 60, "{:.1f}"),
        row(
            "**ingest, no enrichment: docs/s**",
            lambda f: f[b]["ingest_without_enrichment"]["docs_per_s"],
        ),
        row(
            "ingest, no enrichment: passages/s",
            lambda f: f[b]["ingest_without_enrichment"]["passages_per_s"],
        ),
        row("raw Tantivy indexing: docs/s", lambda f: f[b]["raw_tantivy"]["docs_per_s"]),
        row("bm25s indexing: docs/s", lambda f: f[b]["bm25s"]["docs_per_s"]),
        row("database on disk, MB", lambda f: f[b]["disk_mb"]["database"]),
        row("search index on disk, MB", lambda f: f[b]["disk_mb"]["index"]),
        row("raw Tantivy index (stored texts), MB", lambda f: f[b]["disk_mb"]["raw_tantivy"]),
    ]
    for engine, label in (
        ("sourcebook", "Sourcebook full path"),
        ("raw_tantivy", "raw Tantivy"),
        ("bm25s", "bm25s (bags of words)"),
    ):
        bold = "**" if engine == "sourcebook" else ""
        for p in ("p50", "p95", "p99"):
            lines.append(
                row(f"{bold}{label} {p}, ms{bold}", search(engine, 1, f"{p}_ms"), "{:.2f}")
            )
        for threads in (1, 2):
            lines.append(
                row(f"{label}, queries/s, {threads} thread(s)", search(engine, threads, "qps"))
            )
        lines.append(row(f"{label} p99 with 2 threads, ms", search(engine, 2, "p99_ms"), "{:.2f}"))
    lines += [
        row("ratio Sourcebook / raw Tantivy, p50", lambda f: f["ratios"]["raw_p50"]),
        row("ratio Sourcebook / raw Tantivy, p99", lambda f: f["ratios"]["raw_p99"]),
        row(
            "ratio Sourcebook / bm25s (same bags of words), p50", lambda f: f["ratios"]["bm25s_p50"]
        ),
        row(
            "ratio Sourcebook / bm25s (same bags of words), p99", lambda f: f["ratios"]["bm25s_p99"]
        ),
        row("**serve RSS peak, MB**", lambda f: f["memory"]["serve"]["rss_peak_mb"]),
        row("serve RSS steady, MB", lambda f: f["memory"]["serve"]["rss_steady_mb"]),
        row(
            "serve RSS steady: private / mapped files, MB",
            lambda f: (
                f"{f['memory']['serve']['rss_anon_mb']:,} / {f['memory']['serve']['rss_file_mb']:,}"
            ),
            "{}",
        ),
        row(
            "serve RSS after the first search, MB",
            lambda f: f["memory"]["serve"]["rss_after_start_mb"],
        ),
        row(
            "serve API search p50 / p99 (4 clients), ms",
            lambda f: (
                f"{f['memory']['serve']['http_p50_ms']:.1f} / {f['memory']['serve']['http_p99_ms']:.1f}"
            ),
            "{}",
        ),
        row("in-process search RSS peak, MB", lambda f: f["memory"]["in_process"]["rss_peak_mb"]),
        row(
            "**`sourcebook search` wall time (median of 3), s**",
            lambda f: statistics.median(f["cold_start"]["cli_search_s"]),
            "{:.2f}",
        ),
        row(
            "process start to first in-process search, s",
            lambda f: f["cold_start"]["in_process_first_search_s"],
            "{:.2f}",
        ),
        row(
            "**`sourcebook serve` start to first 200, s**",
            lambda f: f["cold_start"]["serve_first_200_s"],
            "{:.2f}",
        ),
    ]
    kinds = sorted(
        {k for f in figures for k in f["search"]["sourcebook"]["by_kind"]},
        key=list(figures[-1]["search"]["sourcebook"]["by_kind"]).index,
    )
    lines += ["", "p50 / p99 in ms by kind of query, Sourcebook full path (raw Tantivy p50):", ""]
    lines += [head.replace("| |", "| kind |", 1), "|---|" + "---:|" * len(figures)]
    for kind in kinds:
        lines.append(
            row(
                kind,
                lambda f, k=kind: (
                    f"{f['search']['sourcebook']['by_kind'][k]['p50_ms']:.1f} / "
                    f"{f['search']['sourcebook']['by_kind'][k]['p99_ms']:.1f} "
                    f"({f['search']['raw_tantivy']['by_kind'][k]['p50_ms']:.2f})"
                ),
                "{}",
            )
        )
    return "\n".join(lines) + "\n"
