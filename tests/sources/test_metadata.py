"""Metadata and task numbers read from task text."""

from __future__ import annotations

from pathlib import Path

import pytest

from planvec.sources.markdown_plans import parse_plan
from planvec.sources.metadata import extract_metadata, task_key
from planvec.text.clean import clean_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


def test_metadata_fixture() -> None:
    plan = parse_plan((FIXTURES / "metadata.md").read_text("utf-8"), "metadata.md")
    meta = [dict(t.metadata) for t in plan.tasks]
    assert meta[0] == {
        "priority": "P0",
        "estimate": "1h30m",
        "estimate_minutes": 90,
        "mvp": True,
        "tags": ["ops"],
        "owners": ["alice"],
        "dates": {"due": "2026-01-31"},
    }
    assert meta[1] == {
        "priority": "P1",
        "estimate": "2h",
        "estimate_minutes": 120,
        "tags": ["docs"],
        "dates": {"due": "2026-02-01"},
    }
    assert meta[2] == {"priority": "P3", "estimate": "3d", "estimate_minutes": 1440}
    assert meta[3] == {}
    assert meta[4] == {"priority": "P0", "mvp": False, "owners": ["bob"]}
    # Metadata is an extra view: the text keeps everything.
    assert "⏱ 1h30m" in plan.tasks[0].text and "#ops" in plan.tasks[0].text


@pytest.mark.parametrize(
    ("source", "minutes"),
    [
        ("(15min)", 15),
        ("(1h30)", 90),
        ("(2 semaines)", 4800),
        ("(0,5 j)", 240),
        ("Durée: 15-20 min", 20),
        ("⏱️ 2h", 120),
        ("~1.5h", 90),
    ],
)
def test_estimates_in_minutes(source: str, minutes: int) -> None:
    assert extract_metadata(f"Faire la chose {source}")["estimate_minutes"] == minutes


@pytest.mark.parametrize(
    "source",
    [
        "struct PriorityLane (P0-P3)",
        "colour #fff and #a0b1c2",
        "mail me at dev@example.com",
        "link to docs/plan.md#section-1",
        "`#include <x>` and `@Override`",
        "version 2.1 released",
    ],
)
def test_lookalikes_are_not_metadata(source: str) -> None:
    assert extract_metadata(source) == {}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1.2.3 Faire X", "1.2.3"),
        ("1.1. Définir les objectifs", "1.1"),
        ("Micro-étape 1.1.1.1.1: Créer", "1.1.1.1.1"),
        ("Sous-étape 2.3 : struct", "2.3"),
        ("Tâche 4 : écrire", "4"),
        ("🎯 Action Atomique 1.1.1.1 : x", "1.1.1.1"),
        ("3. Initialiser les sous-modules", "3"),
        (
            "8.1.1.1.1.4.1.1.3.5.2.1.2.1.6.1.2.1.2.1.1 deep",
            "8.1.1.1.1.4.1.1.3.5.2.1.2.1.6.1.2.1.2.1.1",
        ),
        ("4 resolvers spécialisés", None),
        ("Version 2.1 livrée", None),
        ("Ajouter 1.5 Go de cache", None),
    ],
)
def test_task_key(text: str, key: str | None) -> None:
    assert task_key(text) == key


@pytest.mark.parametrize(
    ("source", "clean"),
    [
        ("**VÉRIFIER la branche** : `git branch`", "VÉRIFIER la branche : git branch"),
        ("`__init__.py` and snake_case_name", "__init__.py and snake_case_name"),
        ("*emph* and _also_ and ~~gone~~ and __bold__", "emph and also and gone and bold"),
        ("***both*** and a lone * star", "both and a lone * star"),
        ("a\u00a0:\u202fb\t c  ", "a : b c"),
        ("[lien](http://x/y_z_w) <br> 🚀", "[lien](http://x/y_z_w) <br> 🚀"),
        ("`` code with ` tick ``", "code with ` tick"),
    ],
)
def test_clean_text(source: str, clean: str) -> None:
    assert clean_text(source) == clean
