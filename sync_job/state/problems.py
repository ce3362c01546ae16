"""What can be wrong with the state file itself, said once, naming the file and what to do.

SQLite reports a damaged file, a read-only folder or a missing permission as error codes deep in
whichever statement first touches the file; `state_error` turns those into one StateError whose
message an operator can act on. Anything else (a busy database, a bug) is left alone.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from sync_job.domain.errors import StateError

# SQLite result codes (primary names; extended ones start with them: SQLITE_READONLY_DIRECTORY).
_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_NOT_WRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")


def damaged(path: Path, detail: str) -> StateError:
    """The file is not a usable SQLite database (corrupted or truncated)."""
    return StateError(
        f"the state file {path} is damaged ({detail}): restore it from a backup, or move it "
        "aside (keep it for a post-mortem) so the next run starts a new one"
    )


def not_writable(path: Path, detail: str) -> StateError:
    """The file or its folder cannot be written by this user."""
    return StateError(
        f"cannot write the state file {path} ({detail}): make the file and its folder "
        "writable by the user that runs sync-job, or point state.path elsewhere"
    )


def is_a_folder(path: Path) -> StateError:
    """state.path names a folder."""
    return StateError(
        f"state.path {path} is a folder, not a file: point state.path at a file, "
        f"e.g. {path / 'sync.db'}",
        exit_code=2,
    )


def newer_schema(path: Path, found: str, known: int) -> StateError:
    """The file was written by a newer sync-job."""
    return StateError(
        f"the state file {path} was written by a newer sync-job ({found}; this one knows up to "
        f"schema version {known}): upgrade sync-job, or point state.path at another file"
    )


def state_error(exc: BaseException, path: Path) -> StateError | None:
    """The StateError an exception from opening or using the state file stands for, if any."""
    if isinstance(exc, StateError):
        return exc
    if isinstance(exc, OSError | sqlite3.DatabaseError) and path.is_dir():
        return is_a_folder(path)  # SQLite only says "unable to open database file"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return not_writable(path, exc.strerror or "permission denied")
    if isinstance(exc, sqlite3.DatabaseError):
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name.startswith(_DAMAGED):
            return damaged(path, str(exc))
        if name.startswith(_NOT_WRITABLE):
            return not_writable(path, str(exc))
    return None
