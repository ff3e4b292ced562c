"""The security manager: policy rules, anomalies from embeddings, CWE classification.

A plugin on the one registry (``register_managers``):

* ``source(inputs)``: the rules of the policy documents under ``inputs.paths`` (Markdown
  and YAML, ``planvec.managers.policies``), synced by the ordinary ``Index.sync`` into
  ``planvec_policies`` (payload ``kind`` = ``policy``, ``key`` = rule id, ``metadata`` =
  rule id, severity, format, tags);
* ``analyse(index, report, inputs)``: with the real model, each rule's nearest CWE
  weaknesses (``planvec.managers.cwe``); free-text findings given as
  ``inputs.options["findings"]`` are classified too. The anomaly check
  (``planvec.managers.anomalies``) runs on every manager's collection, from the orchestrator.
* ``planvec security classify TEXT...`` / ``--tasks``: the classifier from the command line
  (``planvec.cli.security_cmd``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from planvec.embed.model_files import HASHING_FAMILY
from planvec.errors import ConfigError
from planvec.hookspecs import hookimpl
from planvec.managers.base import Finding, ManagerInputs
from planvec.managers.policies import PolicySource
from planvec.managers.policy_rules import POLICY_KIND
from planvec.sources.base import Source

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.managers.cwe import CweMatch
    from planvec.sync_report import SyncReport

#: Rules classified per run at most (each costs one embedding).
MAX_CLASSIFIED = 2000


class SecurityManager:
    """Policies into ``planvec_policies``; anomalies and CWE classifications as findings."""

    name = "security"
    kind = POLICY_KIND
    collection = "planvec_policies"
    order = 30

    def source(self, inputs: ManagerInputs) -> Source:
        """The policy rules under ``inputs.paths`` (see ``planvec.managers.policies``).

        Raises:
            ConfigError: no path was given.
        """
        if not inputs.paths:
            raise ConfigError("the security manager needs a project path holding policy files")
        return PolicySource(inputs.paths)

    def analyse(self, index: Index, report: SyncReport, inputs: ManagerInputs) -> Sequence[Finding]:
        """CWE classifications of the rules and of given findings (real model only).

        Options: ``classify`` (default ``True``) classifies every rule; ``findings`` (a list
        of strings) are classified as free-text findings; ``cwe_top_k`` (default 3).
        """
        findings: list[Finding] = []  # anomalies: the orchestrator checks every collection
        if index.embedder.family == HASHING_FAMILY:
            return findings  # hashing vectors carry no meaning: a classification would lie
        k = int(inputs.options.get("cwe_top_k", 3))
        texts = [str(t) for t in inputs.options.get("findings", ())]
        rules = _rules(index) if inputs.options.get("classify", True) else []
        if not texts and not rules:
            return findings
        from planvec.managers.cwe import CweClassifier

        classifier = CweClassifier(index.embedder)
        matches = classifier.classify([*texts, *(text for _, text, _ in rules)], k=k)
        for text, top in zip(texts, matches, strict=False):
            findings.append(_classification(self.name, text, top, (), {"source": "finding"}))
        for (pid, text, where), top in zip(rules, matches[len(texts) :], strict=True):
            findings.append(_classification(self.name, text, top, (pid,), where))
        return findings


def _rules(index: Index) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for point in index.points.scroll(with_payload=("text", "plan", "line", "key")):
        payload = point.payload
        where = {"source": "policy", "plan": payload.get("plan"), "line": payload.get("line")}
        out.append((str(point.id), str(payload.get("text", "")), where))
        if len(out) >= MAX_CLASSIFIED:
            break
    return out


def _classification(
    manager: str, text: str, top: list[CweMatch], items: tuple[str, ...], where: dict[str, Any]
) -> Finding:
    best = top[0]
    message = f"{text!r} → {best.cwe_id} {best.name} (score {best.score:.3f})"
    details = {**where, "text": text, "cwe": [m.to_dict() for m in top]}
    return Finding(
        manager=manager, kind="classification", message=message, items=items, details=details
    )


@hookimpl
def register_managers(register: Callable[..., None]) -> None:
    register(SecurityManager())
