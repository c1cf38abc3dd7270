"""Where an archive lives, and whether it may be created or only read there.

Reading never creates anything: a mistyped ``--archive`` for a search says there is no archive
there instead of leaving an empty one behind. Only writing (ingest, import, reindex, enrich...)
creates the folder.
"""

from __future__ import annotations

from pathlib import Path

from sourcebook.errors import AccessDenied, ConfigError


def prepare_archive_folder(home: Path, db_path: Path, read_only: bool) -> None:
    """Check (and for a writer create) the archive folder; raise one readable error if unusable."""
    if home.exists() and not home.is_dir():
        raise ConfigError(f"{home} is a file, not an archive folder")
    if read_only:
        if not db_path.is_file():
            raise ConfigError(
                f"no archive at {home} (no {db_path.name}); create one with `sourcebook ingest`"
            )
        return
    try:
        home.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise AccessDenied(f"cannot create the archive folder {home}: permission denied") from exc
    except (FileExistsError, NotADirectoryError) as exc:  # a file on the way to it
        raise ConfigError(f"cannot create the archive folder {home}: {exc.strerror}") from exc
