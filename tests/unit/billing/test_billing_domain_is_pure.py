"""The domain imports no I/O library (STYLE.md: the four layers)."""

import ast
from pathlib import Path

import services.billing.domain as domain

FORBIDDEN = {"pymongo", "fastapi", "aio_pika", "opentelemetry", "httpx", "shared"}
PURE_SHARED = {
    "shared.errors",
    "shared.contracts",
    "shared.terms",
    "shared.tax",
}  # plain Python: errors, messages, terms, VAT


def test_the_billing_domain_imports_no_infrastructure():
    for path in Path(domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            names = [n for n in names if n not in PURE_SHARED]
            assert not {n.split(".")[0] for n in names} & FORBIDDEN, f"{path.name} imports {names}"
