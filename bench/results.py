"""``bench/RESULTS.md`` holds one section per benchmark; each benchmark rewrites only its own."""
from __future__ import annotations

import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = ("# Benchmark results\n\nEach section is written by its benchmark with `--write-results` "
          "(`make bench` runs them all); rerun rather than edit by hand.\n")


def revision() -> str:
    root = RESULTS.parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (+ uncommitted changes)" if dirty else "")


def stamp() -> str:
    return f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, revision {revision()}"


def write_section(name: str, markdown: str) -> None:
    """Replace (or add) the section between ``<!-- name -->`` markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    if start not in text:
        text = HEADER if not text.startswith("# Benchmark results") else text
        text = text.rstrip() + "\n\n" + block + "\n"
    else:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    RESULTS.write_text(text, encoding="utf-8")
