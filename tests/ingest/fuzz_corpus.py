"""A corpus of damaged input files, generated from small valid seeds of every format.

Used by ``test_fuzz_files.py``; also runnable to see what an archive makes of it::

    PYTHONPATH=src python tests/ingest/fuzz_corpus.py /tmp/corpus [--big]

Every seed is mutated the ways files arrive damaged in the wild: truncated at random points,
NUL bytes, the wrong encoding, a huge line, elements nested tens of thousands deep, an XML entity
bomb ("billion laughs"), zero length. Besides: a named pipe, a socket, a symbolic-link loop, a
broken link and a folder named like a file.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import sys
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"

STORY = (
    "Officials in Dushanbe said the border crossing at Panj would reopen for traders on "
    "weekdays, ending a closure of three months. Travellers queued from early morning."
)


def _jsonl() -> bytes:
    lines = [
        f'{{"source_id": "fz-{n}", "title": "Record {n}", "body": "{STORY} ({n})", '
        f'"publication_date": "2024-06-0{n}", "countries": ["Tajikistan"]}}'
        for n in range(1, 6)
    ]
    return ("\n".join(lines) + "\n").encode()


def _rss() -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>https://example.org/{n}</link>"
        f"<guid>https://example.org/{n}</guid><pubDate>Mon, 0{n} Jun 2024 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;{STORY} ({n})&lt;/p&gt;</description></item>\n"
        for n in range(1, 6)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Example wire</title><language>en</language>\n{items}</channel></rss>\n"
    ).encode()


def _atom() -> bytes:
    entries = "".join(
        f"<entry><title>Entry {n}</title><id>urn:fz:{n}</id><updated>2024-06-0{n}T10:00:00Z"
        f'</updated><content type="html">&lt;p&gt;{STORY} ({n})&lt;/p&gt;</content></entry>\n'
        for n in range(1, 6)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Example feed</title><id>urn:fz</id>\n{entries}</feed>\n"
    ).encode()


def _sgml() -> bytes:
    stories = "".join(
        f'<REUTERS TOPICS="NO" NEWID="{990000 + n}">\n<DATE> 2-MAR-1987 10:0{n}:00.00</DATE>\n'
        f"<PLACES><D>usa</D></PLACES>\n<TEXT>&#2;\n<TITLE>STORY {n}</TITLE>\n"
        f"<DATELINE>    WASHINGTON, March 2 - </DATELINE><BODY>{STORY} ({n})\n Reuter\n&#3;"
        "</BODY></TEXT>\n</REUTERS>\n"
        for n in range(1, 6)
    )
    return f'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n{stories}'.encode()


def _html() -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Crossing reopens'
        "</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Crossing reopens</h1>"
        f"<p>{STORY}</p><p>Traders welcomed the decision, said a spokesman.</p>"
        f"<p>{STORY}</p></article><footer>Footer</footer></body></html>\n"
    ).encode()


def _text() -> bytes:
    return f"Crossing reopens\n\n{STORY}\n\nTraders welcomed the decision.\n".encode()


def _markdown() -> bytes:
    return f"# Crossing reopens\n\n{STORY}\n\n* one item\n* another item\n".encode()


def seeds() -> dict[str, bytes]:
    """File name -> content of one valid file of each format."""
    return {
        "records.jsonl": _jsonl(),
        "wire.rss": _rss(),
        "feed.atom": _atom(),
        "stories.sgm": _sgml(),
        "page.html": _html(),
        "story.txt": _text(),
        "story.md": _markdown(),
        "refworld.txt": (FIXTURES / "refworld" / "record.txt").read_bytes(),
        "refworld.html": (FIXTURES / "refworld" / "record.html").read_bytes(),
        "report.pdf": (FIXTURES / "pdf" / "report.pdf").read_bytes(),
    }


_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _entity_bomb(name: str, data: bytes) -> bytes:
    """The billion laughs: nine levels of entities, ten references each, used in the text."""
    text = data.decode("utf-8", "replace")
    if text.startswith("<?xml"):
        text = text.split("?>", 1)[1]
    for tag in ("<title>", "<TITLE>", "<p>"):
        text = text.replace(tag, tag + "&lol9;", 1)
    return (_BOMB + text).encode()


def _nested(name: str, data: bytes, depth: int) -> bytes:
    """Elements (or JSON arrays) nested ``depth`` deep in the middle of the file."""
    if name.endswith(".jsonl"):
        lines = data.split(b"\n")
        lines[1] = b'{"title": "deep", "body": ' + b"[" * depth + b"]" * depth + b"}"
        return b"\n".join(lines)
    if name.endswith(".pdf"):
        return data[:200] + b"[" * depth + data[200:]
    tag = b"<div>" if b"<" in data else b"(("
    middle = len(data) // 2
    close = b"</div>" if tag == b"<div>" else b"))"
    return data[:middle] + tag * depth + b"deep" + close * depth + data[middle:]


def _huge_line(name: str, data: bytes, size: int) -> bytes:
    line = (b"word" * (size // 4))[:size]
    middle = len(data) // 2
    return data[:middle] + line + data[middle:]


def _nul_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(5):
        out.insert(rng.randrange(len(out) + 1), 0)
    return bytes(out)


def _garbage(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(max(1, len(out) // 50)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _utf16_no_bom(data: bytes) -> bytes:
    return data.decode("utf-8", "replace").encode("utf-16-le")


def _invalid_utf8(data: bytes) -> bytes:
    return data.replace(b"e", b"\xe9\xff", 3)


Mutation = Callable[[str, bytes, random.Random], bytes]


def mutations(big: bool) -> dict[str, Mutation]:
    """Name -> mutation of a seed; ``big`` makes the huge and deep ones larger."""
    depth = 200_000 if big else 30_000
    line = 30_000_000 if big else 2_000_000

    def truncate(at: float) -> Mutation:
        return lambda name, data, rng: data[: max(1, int(len(data) * at))]

    return {
        "truncated-early": truncate(0.1),
        "truncated-middle": truncate(0.5),
        "truncated-late": truncate(0.93),
        "truncated-random": lambda name, data, rng: data[: rng.randrange(1, len(data))],
        "nul-bytes": lambda name, data, rng: _nul_bytes(rng, data),
        "garbage": lambda name, data, rng: _garbage(rng, data),
        "utf16-no-bom": lambda name, data, rng: _utf16_no_bom(data),
        "invalid-utf8": lambda name, data, rng: _invalid_utf8(data),
        "huge-line": lambda name, data, rng: _huge_line(name, data, line),
        "nested": lambda name, data, rng: _nested(name, data, depth),
        "entity-bomb": lambda name, data, rng: _entity_bomb(name, data),
        "zero-length": lambda name, data, rng: b"",
    }


def special_files(folder: Path) -> list[str]:
    """A named pipe, a socket, a link loop, a broken link and a folder named like a file
    (with a good file inside); the names of the entries made."""
    made = []
    os.mkfifo(folder / "pipe.txt")
    made.append("pipe.txt")
    with contextlib.suppress(OSError):  # a socket path may be too long on some systems
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(folder / "socket.html"))
        sock.close()
        made.append("socket.html")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    made += ["loop-a.txt", "loop-b.txt"]
    (folder / "dangling.txt").symlink_to(folder / "nowhere.txt")
    made.append("dangling.txt")
    (folder / "pipe-link.txt").symlink_to(folder / "pipe.txt")
    made.append("pipe-link.txt")
    named = folder / "folder.html"
    named.mkdir()
    (named / "inside.txt").write_bytes(_text())
    return made


def write_corpus(folder: Path, big: bool = False, seed: int = 20261205) -> list[str]:
    """Writes the corpus into ``folder``; the names of the files (and special entries)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    rng = random.Random(seed)
    for seed_name, data in seeds().items():
        stem, _, ext = seed_name.rpartition(".")
        (folder / seed_name).write_bytes(data)
        names.append(seed_name)
        for kind, mutate in mutations(big).items():
            name = f"{stem}--{kind}.{ext}"
            (folder / name).write_bytes(mutate(seed_name, data, rng))
            names.append(name)
    names += special_files(folder)
    return names


if __name__ == "__main__":  # a look at the corpus through a real archive
    import time

    from sourcebook.config import Settings
    from sourcebook.services import Archive

    target = Path(sys.argv[1])
    write_corpus(target / "corpus", big="--big" in sys.argv)
    started = time.perf_counter()
    with Archive(Settings(home=target / "archive")) as archive:
        report = archive.ingest([target / "corpus"])
    for outcome in report.files:
        errors = "; ".join(e[:150] for e in outcome.errors[:2])
        print(f"{Path(outcome.path).name:40} {outcome.status:14} {errors}")
    print(f"{len(report.files)} files in {time.perf_counter() - started:.1f} s")
