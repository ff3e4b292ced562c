"""Fixtures of the security manager tests: the example and fixture policy sets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "security"
EXAMPLE_POLICIES = REPO / "examples" / "project" / "policies"
FIXTURE_POLICIES = FIXTURES / "policies"
#: Off-topic rules planted in the fixture policies (cafeteria, plants, football).
PLANTED = ("NET-010", "IR-007", "CLD-006")


@pytest.fixture
def example_policies() -> Path:
    return EXAMPLE_POLICIES


@pytest.fixture
def fixture_policies() -> Path:
    return FIXTURE_POLICIES
