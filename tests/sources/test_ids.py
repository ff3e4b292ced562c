"""Task ids: deterministic, unique, and kept when a numbered task's text is edited."""

from __future__ import annotations

import hashlib
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from planvec.records import ID_NAMESPACE, content_hash, point_id
from planvec.sources.markdown_plans import parse_plan

PLAN = """# Plan v1
## Phase 1
- [ ] **1.1** Mettre en place la sauvegarde
  - [ ] vérifier les droits
  - [ ] vérifier les droits
- [ ] **1.2** Documenter l'API
## Phase 2
- [ ] Tâche sans numéro
- [ ] **1.1** Numéro répété dans une autre phase
"""


def ids(text: str, path: str = "p.md") -> list[str]:
    return [t.id for t in parse_plan(text, path).tasks]


def test_ids_are_deterministic_unique_and_uuid_shaped() -> None:
    first = parse_plan(PLAN, "p.md")
    assert ids(PLAN) == [t.id for t in first.tasks]
    assert len(set(ids(PLAN))) == len(first.tasks) == 6
    assert all(len(i) == 36 and i.count("-") == 4 for i in ids(PLAN))
    # The plan path is part of every id: the same text in another file gets other ids.
    assert not set(ids(PLAN)) & set(ids(PLAN, "other.md"))


def test_editing_a_numbered_task_keeps_its_id_and_changes_its_hash() -> None:
    before = parse_plan(PLAN, "p.md").tasks
    edited = PLAN.replace("Mettre en place la sauvegarde", "Automatiser la sauvegarde nocturne")
    after = parse_plan(edited, "p.md").tasks
    assert before[0].key == after[0].key == "1.1"
    assert before[0].id == after[0].id
    assert before[0].content_hash != after[0].content_hash
    assert after[0].content_hash == content_hash(after[0].text)
    # Its unnumbered children are anchored to the number, not to the parent's text.
    assert [t.id for t in before[1:3]] == [t.id for t in after[1:3]]
    assert after[1].parent_id == after[0].id


def test_inserting_a_task_or_renaming_a_section_keeps_numbered_ids() -> None:
    before = {t.key: t.id for t in parse_plan(PLAN, "p.md").tasks if t.key}
    changed = PLAN.replace("## Phase 1\n", "## Phase 1 (renommée)\n- [ ] nouvelle tâche\n")
    after = {t.key: t.id for t in parse_plan(changed, "p.md").tasks if t.key}
    assert before == after


def test_duplicates_are_told_apart_deterministically() -> None:
    tasks = parse_plan(PLAN, "p.md").tasks
    twins = [t for t in tasks if t.text == "vérifier les droits"]
    assert len(twins) == 2 and twins[0].id != twins[1].id
    repeated = [t for t in tasks if t.key == "1.1"]
    assert len(repeated) == 2 and repeated[0].id != repeated[1].id
    # The first occurrence of a number keeps its id when a later duplicate appears.
    single = PLAN.replace("- [ ] **1.1** Numéro répété dans une autre phase\n", "")
    assert parse_plan(single, "p.md").tasks[0].id == repeated[0].id


def test_unnumbered_task_id_follows_its_text_and_section() -> None:
    base = parse_plan(PLAN, "p.md").tasks[4]
    assert base.key is None
    moved = PLAN.replace("## Phase 2\n", "## Phase 2 bis\n")
    assert parse_plan(moved, "p.md").tasks[4].id != base.id
    recased = PLAN.replace("Tâche sans numéro", "tâche   SANS numéro")
    assert parse_plan(recased, "p.md").tasks[4].id == base.id


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=5)
)
@settings(max_examples=300, deadline=None)
def test_point_id_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    """``point_id`` computes uuid5 by hand (faster): it must give uuid5's exact string."""
    assert point_id(*parts) == str(uuid.uuid5(ID_NAMESPACE, "\x00".join(parts)))


@given(st.lists(st.text(), min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_content_hash_of_one_part_takes_no_other_path(parts: list[str]) -> None:
    digest = hashlib.sha256()
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\x00")
        digest.update(part.encode("utf-8", "surrogatepass"))
    assert content_hash(*parts) == digest.hexdigest()
