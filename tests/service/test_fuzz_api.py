"""OpenAPI fuzzing of a real `planvec serve` (uvicorn on 127.0.0.1) with schemathesis.

Every operation of the served OpenAPI document gets generated requests, valid and invalid
(schemathesis' positive and negative modes, driven by hypothesis); none may answer 5xx.
`POST /sync` is left out (a generated path such as "/" would sync the whole disk) and
`GET /check` is pinned to the test's plans. The default suite sends >= 200 requests; the
`slow` run sends >= 1,000.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from .conftest import Owner, start_owner  # noqa: E402
from .test_owner import _wait_ready  # noqa: E402

pytestmark = pytest.mark.timeout(600)


def _fuzz(owner: Owner, plan_dir: Path, target: int) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_url(owner.info.url + "/openapi.json", timeout=30)
    sent = 0
    server_errors: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    fuzzed = [op for op in operations if not (op.method.upper() == "POST" and op.path == "/sync")]
    rounds = 0
    while sent < target and rounds < 20:
        rounds += 1
        for operation in fuzzed:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                pinned: dict[str, Any] = (
                    {"path": str(plan_dir)} if operation.path == "/check" else {}
                )
                strategy = operation.as_strategy(mode, query=pinned or None)

                @settings(
                    max_examples=max(5, target // (4 * len(fuzzed))),
                    deadline=None,
                    database=None,
                    derandomize=False,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def run(case: Any) -> None:
                    nonlocal sent
                    response = case.call(base_url=owner.info.url, headers=owner.headers, timeout=60)
                    sent += 1
                    if response.status_code >= 500:
                        server_errors.append(
                            f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
                            f" -> {response.status_code} {response.text[:200]}"
                        )

                # nothing invalid to generate for an operation without parameters
                with contextlib.suppress(Unsatisfiable):
                    run()
    return sent, server_errors


@pytest.fixture
def fuzz_owner(plan_dir: Path, tmp_path: Path, owner_factory: list[Owner]) -> Owner:
    owner = start_owner(tmp_path, str(plan_dir))
    owner_factory.append(owner)
    _wait_ready(owner)
    return owner


def test_fuzz_api_no_server_errors(fuzz_owner: Owner, plan_dir: Path) -> None:
    sent, errors = _fuzz(fuzz_owner, plan_dir, target=200)
    assert sent >= 200
    assert not errors, errors[:5]
    assert fuzz_owner.stop() == 0


@pytest.mark.slow
def test_fuzz_api_thousand_requests_no_server_errors(fuzz_owner: Owner, plan_dir: Path) -> None:
    sent, errors = _fuzz(fuzz_owner, plan_dir, target=1000)
    assert sent >= 1000
    assert not errors, errors[:5]
    assert fuzz_owner.stop() == 0
