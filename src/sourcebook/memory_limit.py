"""The memory ceiling of a serving process (``Settings.serve_memory_mb``).

``sourcebook serve`` sets it on itself before it opens the archive, so one runaway search cannot
take the machine's memory (the kernel's OOM killer then picks a victim, perhaps another
service). It is ``RLIMIT_DATA``, not ``RLIMIT_AS``: the address-space limit counts every
mapping, and a serving process on the 15,000-story Reuters archive already reserves 1.2 GB of
address space while using 94 MB (16 reader threads each reserve a 64 MB malloc arena and an
8 MB stack, and the index files are memory-mapped), so ``RLIMIT_AS`` would refuse threads and
index segments long before memory ran short. ``RLIMIT_DATA`` (Linux 4.7 and later) counts the
heap and private writable mappings only, which is where a search's memory goes.

What happens at the ceiling: an allocation by Python raises ``MemoryError``, which the search
engine turns into a refusal ("this search needs more memory than the server allows: narrow
it"); an allocation by Tantivy (Rust) aborts the process, because Rust does not report failed
allocations. That is why the cost model (``search/limits.py``) refuses the queries known to
need such memory before they run; the ceiling keeps the damage to this process.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["apply_memory_ceiling"]

log = logging.getLogger(__name__)

MB = 1024 * 1024


def apply_memory_ceiling(megabytes: int) -> int | None:
    """Limit this process's data memory to ``megabytes`` (0: no limit); the bytes set, or None.

    The hard limit is left alone; a limit already lower than asked is kept.
    """
    if megabytes <= 0 or sys.platform == "win32":
        return None
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = megabytes * MB
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft <= wanted:
        return soft
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    log.info("memory ceiling: %d MB of data (RLIMIT_DATA)", wanted // MB)
    return wanted
