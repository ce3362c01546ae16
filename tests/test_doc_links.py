"""Every link and file citation in the docs, unit files and docstrings resolves inside the repo.

The product stands alone: a reader of a fresh clone must find every file the README, docs/,
deploy/ or a docstring points at. Markdown links (and their #anchors) must resolve; paths under the
repo's top-level folders must exist; a cited `name.md` must be a file of the repo; nothing may point
at a folder beside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "deploy").rglob("*.*")])
SOURCES = sorted(p for d in ("sync_job", "bench", "tests") for p in (ROOT / d).rglob("*.py"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"(?<![\w/.$-])((?:sync_job|tests|docs|deploy|bench)/[\w./-]*[\w/])")
OUTSIDE = re.compile(r"\.\./shared|shared/(?:spec|seed)/|/work/")
CITED_MD = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")
MARKDOWN_NAMES = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file (outside fenced code)."""
    found, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def resolves(path: Path, target: str) -> bool:
    """True when a link target of `path` names a file (and heading) inside the repository."""
    file_part, _, anchor = target.partition("#")
    resolved = (path.parent / file_part).resolve() if file_part else path
    if not resolved.is_relative_to(ROOT) or not resolved.exists():
        return False
    return not (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved))


def broken_links(path: Path) -> list[str]:
    """The markdown links of one file that do not resolve inside the repository."""
    return [
        target
        for target in LINK.findall(path.read_text(encoding="utf-8"))
        if not target.startswith(("http://", "https://", "mailto:")) and not resolves(path, target)
    ]


def test_the_checks_see_links_and_paths() -> None:
    """The patterns find what they are meant to check (so the tests below cannot pass empty)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert LINK.search(readme) and REPO_PATH.search(readme)
    assert OUTSIDE.search("see ../shared/spec/flow.md") and CITED_MD.search("(flow.md §3)")
    assert slug("Near real time: TikTok webhooks") == "near-real-time-tiktok-webhooks"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_links_and_paths_resolve_inside_the_repo(path: Path) -> None:
    """README, docs/ and deploy/: links resolve, repo paths exist, nothing points outside."""
    text = path.read_text(encoding="utf-8")
    assert not broken_links(path)
    assert not OUTSIDE.findall(text)
    missing = [p for p in REPO_PATH.findall(text) if not (ROOT / p.rstrip(".")).exists()]
    assert not missing
    assert not [name for name in CITED_MD.findall(text) if name not in MARKDOWN_NAMES]


def test_no_docstring_or_comment_cites_a_file_outside_the_repo() -> None:
    """Python sources cite only files that ship with the repository."""
    outside, unknown = [], []
    for path in SOURCES:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        outside += [f"{where}: {m}" for m in OUTSIDE.findall(text)]
        unknown += [f"{where}: {m}" for m in CITED_MD.findall(text) if m not in MARKDOWN_NAMES]
    assert not outside
    assert not unknown
