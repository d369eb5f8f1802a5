"""``make fuzz``: schemathesis against every service's OpenAPI, with a key of every role (issue 7).

Starts its own stack (the embedded store unless MONGO_URL is set, fresh prefixes on the
local RabbitMQ), then runs ``schemathesis run`` once per service and role with the checks
``not_a_server_error`` and ``response_schema_conformance``: no input may give a 5xx, and
every answer must match the schema the route publishes (the error body included). Prints,
per run and in total, the operations, the cases and the failures; exits 1 on any failure.

Revoking keys (intake's ``POST /keys/{key_id}/revoke``) is fuzzed last, in a run of its own:
schemathesis finds the ids of real keys (from ``GET /keys``) and revokes them, the fuzz's own
role keys and the services' keys among them, so every run after it would be answered 401 (a
service refused by another answers 503: a false failure, found when CI failed that way).

    python -m devstack.fuzz                     # every role, FUZZ_EXAMPLES cases per operation
    python -m devstack.fuzz --examples 5 --roles admin,storefront,erp   # the CI profile
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from devstack.processes import ROOT
from shared.registry import SERVICES
from tests.support.stack import TEST_KEYS, own_stack

CHECKS = "not_a_server_error,response_schema_conformance"
REVOKE = r"^/keys/\{key_id\}/revoke$"  # the one operation that destroys what the runs stand on
REVOKE_RUN = ("intake", "admin")  # where it is fuzzed, after everything else


def schemathesis(
    url: str, key: str, examples: int, seed: int, report: Path, *, revoke: bool = False
) -> subprocess.CompletedProcess[str]:
    argv = [
        str(ROOT / ".venv" / "bin" / "schemathesis"), "run", f"{url}/openapi.json",
        "--header", f"Authorization: Bearer {key}", "--checks", CHECKS,
        "--max-examples", str(examples), "--seed", str(seed), "--workers", "1",
        "--phases", "examples,coverage,fuzzing", "--request-timeout", "15",
        "--report", "json", "--report-json-path", str(report),
        "--no-color", "--warnings", "off", "--output-sanitize", "true",
        "--include-path-regex" if revoke else "--exclude-path-regex", REVOKE,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)


def figures(report: Path) -> tuple[int, int, int]:
    """(operations tested, cases generated, unique failures + errors) of one run's JSON report."""
    data = json.loads(report.read_text())
    cases = data["test_cases"]
    return data["operations"]["tested"], cases["generated"], cases["unique_failures"] + len(data["errors"])


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "20")))
    parser.add_argument("--roles", default=os.environ.get("FUZZ_ROLES", ",".join(TEST_KEYS)))
    parser.add_argument("--services", default=",".join(SERVICES))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "7")))
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    services = [s for s in args.services.split(",") if s]
    print(f"fuzz: starting {len(SERVICES)} services; {len(services)} services x {len(roles)} roles, "
          f"{args.examples} examples per operation, seed {args.seed}", flush=True)  # fmt: skip
    totals = [0, 0, 0]
    failed_runs: list[str] = []
    with own_stack("fuzz") as own:
        stack, work = own.stack, own.work
        assert stack is not None
        runs = [(service, role, False) for service in services for role in roles]
        if REVOKE_RUN[0] in services and REVOKE_RUN[1] in roles:
            runs.append((*REVOKE_RUN, True))
        for service, role, revoke in runs:
            began = time.monotonic()
            name = f"{service}-{role}{'-revoke' if revoke else ''}"
            report = Path(os.environ.get("FUZZ_REPORTS", work)) / f"{name}.json"
            done = schemathesis(stack.url(service), stack.key(role), args.examples, args.seed, report,
                                revoke=revoke)  # fmt: skip
            ops, cases, failures = figures(report) if report.exists() else (0, 0, 1)
            if done.returncode != 0 and failures == 0:
                failures = 1  # schemathesis failed without a report entry (an error)
            totals = [totals[0] + ops, totals[1] + cases, totals[2] + failures]
            mark = "ok " if failures == 0 else "FAIL"
            took = time.monotonic() - began
            who = f"{role} (revoking)" if revoke else role
            print(f"  {mark} {service:<12} as {who:<17} {ops:>3} operations {cases:>5} cases "
                  f"{failures:>3} failures ({took:.0f} s)", flush=True)  # fmt: skip
            if failures:
                failed_runs.append(f"{service} as {who}")
                print(done.stdout[-2500:], flush=True)
    print(f"fuzz: {totals[0]} operations, {totals[1]} cases, {totals[2]} failures"
          + (f" in {', '.join(failed_runs)}" if failed_runs else ""))  # fmt: skip
    return 1 if totals[2] else 0


if __name__ == "__main__":
    sys.exit(main())
