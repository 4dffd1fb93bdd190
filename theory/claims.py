"""The paper's claims as functions returning tidy verdict rows (used by tests/claims and by the reports).

Each row: claim, setting, statistic, expected, measured, ci_low, ci_high, holds (plus id and note).
(a) the penalty method converges; (b) uniform is optimal when balanced and abundant, and not under unequal
noise; (c) reweighting gains under imbalance and repetition, and in multi-stage training exactly when
fine-tuning is anisotropic. The catalogue IDs of research/theory.md section 8 behind each claim are listed
in CLAIM_IDS; predictions the measurements contradict are in KNOWN_CONTRADICTIONS (and theory/FINDINGS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from tandem_ref.names import Registry

from .catalogue import CATALOGUE

CLAIM_IDS = {
    "penalty_convergence": ["T1.1", "T1.2", "T1.3", "T1.4", "T1.4b", "T1.5", "T1.6", "T2.1", "T1.7", "T1.7m", "T1.8"],
    "twin_networks": ["T2.1b", "T2.2", "T2.3", "T2.4", "T2.5", "T2.6"],
    "uniform_optimal_balanced": ["T3.1", "T3.2", "T3.3", "T3.4", "T3.5", "T3.7"],
    "uniform_not_optimal_unequal_noise": ["T3.6"],
    "gains_imbalance_repetition": ["T4.1", "T4.2", "T4.3", "T4.4", "T4.5"],
    "multistage_gain_anisotropic": ["T5.1", "T5.2", "T5.3", "T5.4", "T5.5"],
    "schedule_predictions": ["T6.1", "T6.2", "T6.3", "T6.4", "T6.5", "T6.6", "T6.7"],
    "plumbing": ["T0.1", "T0.2", "T0.3", "T0.4", "T0.5"],
}

@dataclass(frozen=True)
class Known:
    """A verdict row whose prediction the measurements contradict (theory/FINDINGS.md), identified by its
    catalogue ID, its title and its case (catalogue.common.row), compared whole: a renamed row matches
    nothing, and the claim tests then fail (tests/claims/conftest.py), instead of matching by accident."""

    id: str
    title: str
    case: str = ""

    def matches(self, r: dict) -> bool:
        return r["id"] == self.id and r["claim"] == f"{self.id} {self.title}" and r.get("case", "") == self.case


KNOWN_CONTRADICTIONS = (
    Known("T2.5", "budgeted probe length: interior best K", case="seed 3"),
    Known("T2.6", "stale reference: error nondecreasing in P"),
    Known("T6.5", "EMA-of-proxy reference does not converge to alpha*", case="C1 draw r=16, tau=0.1"),
)


def is_known_contradiction(r: dict) -> bool:
    return any(k.matches(r) for k in KNOWN_CONTRADICTIONS)


def run_ids(ids, profile: str = "quick") -> list[dict]:
    rows = []
    for i in ids:
        rows.extend(CATALOGUE[i](profile))
    return rows


def _claim(name):
    def fn(profile: str = "quick") -> list[dict]:
        return run_ids(CLAIM_IDS[name], profile)

    fn.__name__ = name
    fn.__doc__ = f"Verdict rows of claim {name!r}: catalogue IDs {', '.join(CLAIM_IDS[name])}."
    return fn


CLAIMS = Registry("claim", {name: _claim(name) for name in CLAIM_IDS})
