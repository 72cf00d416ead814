#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Every reference to a Markdown document in the repo resolves inside the repo.

A clone of the repo alone is what an app developer, a hoster or a contributor has: a comment that
says "see config.md" or a link to ../shared/spec/http-api.md that leads outside the clone tells
them nothing. This walks every text file of the tree (but build*/, node_modules/, .git) and checks

  - every relative Markdown link [text](path.md#anchor) and <path.md>: the file exists, relative to
    the linking file (as a Markdown viewer resolves it), and the anchor names one of its headings;
  - every other mention of a document, "see X.md", "X.md §2", "docs/api.md, "List a group"",
    in code comments, man pages, configs and prose: the file exists relative to the mentioning
    file or to the repo root, and where a section follows (§N or a quoted heading) that section
    is one of the document's headings;
  - every source path the documents in docs/ cite in backticks (`ngx_module/api/route.cpp`,
    `shared/store/`): it exists, so the documents follow the tree when files move. A path in a
    "Planned (not built yet)" block names what is yet to come and is not checked.

Prints each dangling reference as FILE:LINE: REFERENCE (why) and exits 1 when there is one.
usage: check_references.py [REPO_ROOT]   (default: two folders above this file)
"""
from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

SKIP_DIRS = {".git", "node_modules"}
SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".mdb", ".gz", ".der", ".p8", ".pem", ".key", ".so", ".o"}

# A Markdown link or image, [text](target) or [text](<target>): its text names the target, it is
# not a mention of its own.
MD_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A document named in text: an optional relative path, a name, ".md" not followed by another
# name character ("data.mdb" is LMDB's file, not a document), an optional #anchor.
MENTION = re.compile(r"(?<![\w./:-])((?:\.{1,2}/)*(?:[\w.-]+/)*[\w-]+\.md)(?![\w])(#[\w-]+)?")
# What may follow a mention to name its section: §N, or a quoted heading ("Rules", "## Sender").
SECTION = re.compile(r"""^[,:]?\s*(?:\(\s*)?(?:§\s*(\d+)|["“]((?:#+\s*)?[^"”\n]{2,80})["”])""")
URL_PREFIX = re.compile(r"[a-z][a-z0-9+.-]*://\S*$", re.IGNORECASE)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip()).lower()
    out = []
    for ch in text:
        if ch in " -":
            out.append("-")
        elif ch == "_" or ch.isalnum() or unicodedata.category(ch).startswith("M"):
            out.append(ch)
    return "".join(out)


class Headings:
    def __init__(self) -> None:
        self._cache: dict[Path, list[str]] = {}

    def of(self, path: Path) -> list[str]:
        if path not in self._cache:
            titles: list[str] = []
            in_code = False
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.lstrip().startswith("```"):
                    in_code = not in_code
                    continue
                m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
                if m and not in_code:
                    titles.append(m.group(2))
            self._cache[path] = titles
        return self._cache[path]

    def has_anchor(self, path: Path, anchor: str) -> bool:
        slugs: dict[str, int] = {}
        for title in self.of(path):
            slug = github_slug(title)
            n = slugs.get(slug, 0)
            slugs[slug] = n + 1
            if anchor == slug or (n and anchor == f"{slug}-{n}"):
                return True
        return False

    def has_section(self, path: Path, number: str | None, title: str | None) -> bool:
        for heading in self.of(path):
            plain = re.sub(r"`", "", heading).strip()
            if number is not None:
                if re.match(rf"^{number}[.)\s]", plain):
                    return True
            elif title is not None:
                wanted = re.sub(r"`", "", re.sub(r"^#+\s*", "", title)).strip().rstrip(".,;:")
                unnumbered = re.sub(r"^\d+[.)]?\s+", "", plain)  # "6. Fuzzing the …" is "Fuzzing"
                if any(h.lower().startswith(wanted.lower()) for h in (plain, unnumbered)):
                    return True
        return False


def text_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not (rel == Path(".") and d.startswith("build"))
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() in SKIP_SUFFIXES or path.is_symlink():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if "\0" in text:
                continue
            yield path, text


def inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def source_paths(root: Path, rel: Path, text: str) -> list[str]:
    """The backticked repo paths of a document in docs/ that do not exist."""
    tops = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "build", "node_modules")))
    cited = re.compile(r"`((?:%s)/[^`\s]*)`" % "|".join(map(re.escape, tops)))
    problems = []
    planned = False
    for number, line in enumerate(text.splitlines(), 1):
        quoted = line.startswith(">")
        planned = quoted and (planned or "Planned (not built yet)" in line)
        if planned:
            continue
        for m in cited.finditer(line):
            path = m.group(1)
            if re.search(r"[*{}<>\[\]$]", path):
                continue  # a pattern or a placeholder, not one path
            path = re.sub(r"[:#].*$", "", path).rstrip(".,;")
            if not (root / path).exists():
                problems.append(f"{rel}:{number}: {path} (no such file or folder in the tree)")
    return problems


def check(root: Path) -> list[str]:
    problems: list[str] = []
    headings = Headings()
    for path, text in text_files(root):
        rel = path.relative_to(root)
        if path.resolve() == Path(__file__).resolve():
            continue  # its own description names example references
        is_markdown = path.suffix == ".md"
        if is_markdown and rel.parts[0] == "docs":
            problems.extend(source_paths(root, rel, text))
        in_code = False
        for number, line in enumerate(text.splitlines(), 1):
            if is_markdown and line.lstrip().startswith("```"):
                in_code = not in_code
            link_spans: list[tuple[int, int]] = []
            if is_markdown and not in_code:
                for m in MD_LINK.finditer(line):
                    link_spans.append(m.span())
                    target = m.group(1)
                    if URL_PREFIX.match(target) or target.startswith(("mailto:", "/")):
                        continue
                    file_part, _, anchor = target.partition("#")
                    where = path if not file_part else path.parent / file_part
                    if file_part and not where.exists():
                        problems.append(f"{rel}:{number}: {target} (no such file)")
                    elif file_part and not inside(root, where):
                        problems.append(f"{rel}:{number}: {target} (outside the repo)")
                    elif anchor and where.suffix == ".md" and not headings.has_anchor(where, anchor):
                        problems.append(f"{rel}:{number}: {target} (no heading with that anchor)")
            for m in MENTION.finditer(line):
                if any(a <= m.start() < b for a, b in link_spans):
                    continue
                before = line[: m.start()]
                if URL_PREFIX.search(before + m.group(1)) or before.endswith(("/", "file://")):
                    continue
                name = m.group(1)
                candidates = [path.parent / name, root / name]
                found = next((c for c in candidates if c.is_file() and inside(root, c)), None)
                ref = name + (m.group(2) or "")
                if found is None:
                    outside = any(c.is_file() for c in candidates)
                    problems.append(f"{rel}:{number}: {ref} ({'outside the repo' if outside else 'no such file'})")
                    continue
                if m.group(2) and not headings.has_anchor(found, m.group(2)[1:]):
                    problems.append(f"{rel}:{number}: {ref} (no heading with that anchor)")
                    continue
                sec = SECTION.match(line[m.end():])
                if sec and not headings.has_section(found, sec.group(1), sec.group(2)):
                    problems.append(f"{rel}:{number}: {ref} {sec.group(0).strip(' ,:(')} (no such section)")
    return problems


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} dangling reference(s) to documents (every one must resolve inside the repo)")
        return 1
    print("every document reference resolves inside the repo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
