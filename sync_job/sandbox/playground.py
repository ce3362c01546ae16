"""The sandbox as a playground: a fresh state each start, a config file, the commands to try.

`sync-job sandbox` writes `<state dir>/config.toml` pointing at the simulators it started, so every
other command (status, attention, check, verify, connect, ...) can be tried against them from a
second terminal while it runs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.toml"
# What a sandbox start removes: the simulators start empty, so old state would only contradict them.
_STATE_FILES = ("sync.db", "sync.db-wal", "sync.db-shm", CONFIG_NAME)
TRY_COMMANDS = (
    ("status", "cursors, last run, outbox, open attention items"),
    ("attention", "the open attention items, with ids"),
    ("check", "the preflight: every ok/warn/FAIL line"),
    ("verify", "compare TikTok's orders with the simulated DealPOS's invoices"),
    ("connect", "the authorization link (open it for a code, then connect --code CODE)"),
    ("once --dry-run", "what one cycle would do, changing nothing"),
)


def fresh_state(state_dir: Path) -> list[str]:
    """Remove the state a previous sandbox left; return the names removed."""
    removed = []
    for name in _STATE_FILES:
        path = state_dir / name
        if path.exists():
            path.unlink()
            removed.append(name)
    return removed


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # JSON string escapes are valid TOML basic-string escapes


def to_toml(settings: Mapping[str, Mapping[str, Any]]) -> str:
    """Write sandbox settings (tables of scalars and arrays of tables) as TOML."""
    lines: list[str] = []
    for name, table in settings.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, list)]
        for key, items in table.items():
            if isinstance(items, list):
                for item in items:
                    lines += ["", f"[[{name}.{key}]]"]
                    lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
        lines.append("")
    return "\n".join(lines)


def write_config(settings: Mapping[str, Mapping[str, Any]], state_dir: Path) -> Path:
    """Write the sandbox's config next to its state (mode 0600: it names sandbox secrets)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / CONFIG_NAME
    header = "# Written by `sync-job sandbox` for this run: the simulators' addresses change.\n\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(header + to_toml(settings))
    return path


def _shown(path: Path) -> str:
    """The path relative to the current folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _program() -> str:
    """How this command was started, so the suggestions can be pasted as they are."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "sync-job" and argv0.exists() and argv0.parent != Path("/usr/bin"):
        return _shown(argv0.absolute())
    return "sync-job"


def next_steps(config_path: Path) -> str:
    """The commands to try next against the running sandbox, one a line."""
    base = f"{_program()} --config {_shown(config_path)}"
    width = max(len(command) for command, _ in TRY_COMMANDS)
    lines = ["try, in another terminal while this runs:"]
    lines += [f"  {base} {command:<{width}}  # {about}" for command, about in TRY_COMMANDS]
    return "\n".join(lines)
