"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis), against
the real server, signed in: no input may give a 5xx, and every answer must match its schema.

Bounded: a few examples per operation (FUZZ_EXAMPLES), no shrinking, so the run stays short."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.support.accounts import sign_up_sync

FUZZ_EXAMPLES = int(os.environ.get("VA_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_headers(api_server: str) -> dict[str, str]:
    _, headers = sign_up_sync(api_server)
    return headers


def test_no_input_gives_a_server_error_or_an_off_schema_answer(
    api_server: str,
    fuzz_headers: dict[str, str],
) -> None:
    loaded = schemathesis.openapi.from_url(f"{api_server}/openapi.json")
    # Logging out would end the signed-in session the other operations use.
    operations = [r.ok() for r in loaded.exclude(path="/authentication/logout").get_all_operations()]
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case) -> None:
            case.call_and_validate(
                headers=fuzz_headers, timeout=30, checks=[not_a_server_error, response_schema_conformance]
            )

        try:
            run()
        except Exception as exc:  # collect every operation's finding, then fail once
            failures.append(f"{operation.label}: {exc}"[:1500])
    assert not failures, "\n\n".join(failures)
