"""Architecture rules that a reader relies on (STYLE.md): the domain is plain Python with no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = {"pymongo", "motor", "fastapi", "starlette", "aio_pika", "aiormq", "opentelemetry", "httpx",
                "uvicorn", "requests", "faststream"}  # fmt: skip
SERVICES = ("intake", "inventory", "fulfillment", "logistics", "billing", "aftersales")


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_of_each_service_imports_no_io_library(service: str):
    files = sorted((ROOT / "services" / service / "domain").rglob("*.py"))

    offenders = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & IO_LIBRARIES) for f in files}

    assert files, f"services/{service}/domain/ has no modules"
    assert {f: libs for f, libs in offenders.items() if libs} == {}


def test_nothing_imports_motor_which_is_deprecated():
    files = [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]

    assert [str(f) for f in files if "motor" in imported_roots(f)] == []


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_lists_what_it_consumes_in_one_place(service: str):
    consumers = ROOT / "services" / service / "consumers.py"

    assert consumers.exists()
    assert "subscribe(" in consumers.read_text()
