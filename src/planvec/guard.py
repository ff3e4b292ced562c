"""The deletion guard: a sync never silently deletes most of an index or of a plan.

Like rsync's ``--max-delete``, a sync that would delete more than ``max_delete`` (a
fraction, default 0.5) of the points stored before it, either in the whole index or in one
plan, is refused before those deletions are written:

* **a plan** that parses to far fewer tasks than it holds (emptied, overwritten by junk,
  half-pasted) is *held*: none of its changes are written and it keeps its indexed tasks,
  as an unreadable file does; the other plans are synced;
* **the index**: when the deletions of the whole run (tasks gone from their plans plus
  plans that vanished, e.g. ``planvec index`` on an empty directory) pass the threshold,
  no deletion is written (additions and edits are: they destroy nothing).

Either way the run ends with ``DeleteRefused`` (exit code 2), naming what would have been
deleted and how to confirm (``--allow-delete``, or a higher ``max_delete``). A first
index (nothing stored) never trips it, and neither do deletions of fewer than
``MIN_GUARDED`` points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: deletions smaller than this are never "mass" deletions (a finished 2-task plan)
MIN_GUARDED = 3

DEFAULT_MAX_DELETE = 0.5


def trips(before: int, deleted: int, max_delete: float) -> bool:
    """Whether deleting ``deleted`` of ``before`` stored points passes the threshold."""
    return before > 0 and deleted >= MIN_GUARDED and deleted > max_delete * before


@dataclass
class HeldPlan:
    """A plan whose changes were held back because it would lose too many tasks."""

    plan: str
    stored: int
    parsed: int
    would_delete: int

    def message(self) -> str:
        return (
            f"would delete {self.would_delete} of its {self.stored} indexed tasks (it now "
            f"parses to {self.parsed}); kept as it was. Was the file emptied or overwritten? "
            "If the deletion is intended, rerun with --allow-delete"
        )


@dataclass
class DeleteGuard:
    """The guard's setting and, after a run, its verdict (``to_dict`` in ``--json``)."""

    max_delete: float = DEFAULT_MAX_DELETE
    allow: bool = False
    points_before: int = 0
    would_delete: int = 0
    refused: bool = False
    held: list[HeldPlan] = field(default_factory=list)

    def start(self, points_before: int) -> None:
        """Begin a run over an index holding ``points_before`` points (clears a past verdict)."""
        self.points_before, self.would_delete, self.refused = points_before, 0, False
        self.held.clear()

    def hold_plan(self, plan: str, stored: int, parsed: int, deleted: int) -> bool:
        """Whether ``plan``'s changes must be held back (records it when so)."""
        if self.allow or not trips(stored, deleted, self.max_delete):
            return False
        self.held.append(HeldPlan(plan, stored, parsed, deleted))
        return True

    def check_run(self, deleted: int) -> bool:
        """Whether the run's ``deleted`` points may be deleted; records the verdict.

        The deletions of held plans count too: a run that empties every plan is refused as a
        whole, not plan by plan.
        """
        deleted += sum(h.would_delete for h in self.held)
        self.would_delete = deleted
        self.refused = not self.allow and trips(self.points_before, deleted, self.max_delete)
        return not self.refused

    @property
    def tripped(self) -> bool:
        return self.refused or bool(self.held)

    def message(self, plans_deleted: list[str]) -> str:
        """What was refused and how to confirm it (the ``DeleteRefused`` text)."""
        limit = f"{self.max_delete:.0%}"
        parts = []
        if self.refused:
            gone = ""
            if plans_deleted:
                shown = ", ".join(plans_deleted[:5])
                more = f" and {len(plans_deleted) - 5} more" if len(plans_deleted) > 5 else ""
                gone = f" (plans no longer found: {shown}{more})"
            parts.append(
                f"this sync would delete {self.would_delete} of the {self.points_before} "
                f"indexed tasks, more than max_delete = {limit}{gone}; nothing was deleted"
            )
        for held in self.held[:5]:
            parts.append(f"plan {held.plan} {held.message()}")
        if len(self.held) > 5:
            parts.append(f"... and {len(self.held) - 5} more plans held back")
        parts.append(
            "check the paths (--dry-run lists every deletion); to confirm, rerun with "
            "--allow-delete, or raise the threshold with --max-delete / PLANVEC_MAX_DELETE"
        )
        return "; ".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeleteGuard:
        """The guard of a report read back from JSON (``to_dict``; a routed ``planvec index``)."""
        guard = cls(
            max_delete=float(data.get("max_delete", DEFAULT_MAX_DELETE)),
            allow=bool(data.get("allow_delete", False)),
            points_before=int(data.get("points_before", 0)),
            would_delete=int(data.get("would_delete", 0)),
            refused=bool(data.get("refused", False)),
        )
        guard.held = [HeldPlan(**held) for held in data.get("held_plans", ())]
        return guard

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_delete": self.max_delete,
            "allow_delete": self.allow,
            "points_before": self.points_before,
            "would_delete": self.would_delete,
            "refused": self.refused,
            "held_plans": [
                {
                    "plan": h.plan,
                    "stored": h.stored,
                    "parsed": h.parsed,
                    "would_delete": h.would_delete,
                }
                for h in self.held
            ],
        }
