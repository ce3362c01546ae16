"""docs/architecture.md names every module of the package, and no module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sync_job"
DOC = ROOT / "docs" / "architecture.md"
# A module path as the document writes it, relative to sync_job/: `engine/push.py`, `__main__.py`.
NAMED = re.compile(r"`((?:[a-z_]+/)*[a-z_]+\.py)`")


def module_names() -> set[str]:
    """Every module as the document names it: `engine/push.py`; a package as `engine/`."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.name == "__init__.py":
            if relative.parent != Path("."):
                names.add(f"{relative.parent.as_posix()}/")
        else:
            names.add(relative.as_posix())
    return names


def test_every_module_is_named() -> None:
    """Each module (and each package folder) appears in backticks in the architecture document."""
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in module_names() if f"`{name}`" not in text)
    assert not missing, f"add these to docs/architecture.md: {missing}"


def test_every_module_named_exists() -> None:
    """No module the document names has been moved or deleted."""
    named = set(NAMED.findall(DOC.read_text(encoding="utf-8")))
    assert named, "the document names modules as `folder/module.py`"
    assert not sorted(n for n in named if not (PACKAGE / n).exists())
