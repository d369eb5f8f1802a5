"""Regenerate the documents made from code: the order saga's diagram in docs/ARCHITECTURE.md,
the bus's AsyncAPI 3.0 document, docs/asyncapi.json, and the permission table of docs/API.md.

    .venv/bin/python -m devstack.docs          # rewrite them
    .venv/bin/python -m devstack.docs --check  # exit 1 and name the stale ones (CI does this via a test)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack import access_doc, asyncapi
from services.intake.domain import lifecycle

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
API = ROOT / "docs" / "API.md"


def generated() -> dict[Path, str]:
    """Every generated document's path and the text it must have."""
    current = ARCHITECTURE.read_text(encoding="utf-8")
    return {
        ARCHITECTURE: lifecycle.embed(current, lifecycle.mermaid()),
        ASYNCAPI: asyncapi.render(),
        API: access_doc.embed(API.read_text(encoding="utf-8")),
    }


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--check", action="store_true", help="only report stale documents")
    args = parser.parse_args()
    stale = [path for path, text in generated().items() if _text(path) != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run make docs)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated().items():
        path.write_text(text, encoding="utf-8")
        print(f"{'rewrote' if path in stale else 'up to date'}: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
