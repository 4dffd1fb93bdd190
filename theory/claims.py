"""The paper's claims as functions returning tidy verdict rows (used by tests/claims and by the reports).

Each row: claim, setting, statistic, expected, measured, ci_low, ci_high, holds (plus id and note).
(a) the penalty method converges; (b) uniform is optimal when balanced and abundant, and not under unequal
noise; (c) reweighting gains under imbalance and repetition, and in multi-stage training exactly when
fine-tuning is anisotropic. The catalogue IDs of research/theory.md section 8 behind each claim are listed
in CLAIM_IDS; predictions the measurements contradict are in KNOWN_CONTRADICTIONS (and theory/FINDINGS.md).
"""

from __future__ import annotations

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

# (id, text in the row's setting) of the rows whose prediction the measurements contradict; see FINDINGS.md
KNOWN_CONTRADICTIONS = {
    ("T2.5", "seed 3"),
    ("T2.6", "error nondecreasing in P"),
    ("T6.5", "C1 draw r=16, tau=0.1"),
}


def is_known_contradiction(r: dict) -> bool:
    return any(r["id"] == i and (text in r["setting"] or text in r["claim"]) for i, text in KNOWN_CONTRADICTIONS)


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
