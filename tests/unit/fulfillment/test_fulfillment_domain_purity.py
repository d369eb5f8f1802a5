"""The domain is pure: no store, broker, web or telemetry imports (STYLE.md)."""

import ast
from pathlib import Path

import services.fulfillment.domain as domain

FORBIDDEN = {"pymongo", "fastapi", "aio_pika", "opentelemetry", "httpx", "shared"}


def test_the_fulfillment_domain_imports_no_infrastructure():
    imported = set()
    for path in Path(domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert imported.isdisjoint(FORBIDDEN)
