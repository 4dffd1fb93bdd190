"""T5: two-stage (pre-train, then fine-tune), claim (c) second part (theory.md F and section 8)."""

from __future__ import annotations

import numpy as np

from .. import exact
from ..families import make
from .common import row, run_method


def _example_formulas(s, B=1.0):
    """a*_two = s^2 / (1 + s^2), gain = B^2 (1 - s^2)^2 / (8 (1 + s^2)), relative gain ((1 - s^2)/(1 + s^2))^2."""
    return s ** 2 / (1 + s ** 2), B ** 2 * (1 - s ** 2) ** 2 / (8 * (1 + s ** 2)), ((1 - s ** 2) / (1 + s ** 2)) ** 2


def _check_example(p, s):
    a_pred, g_pred, r_pred = _example_formulas(s)
    opt = exact.optimum(p)
    f_half = exact.F(p, [0.5, 0.5])
    gain = f_half - opt.F
    return max(abs(opt.alpha[0] - a_pred), abs(gain - g_pred), abs(gain / f_half - r_pred))


def T5_1(profile="quick"):
    """Closed-form example, ridge-to-init fine-tuning, k=4: s = rho / (1 + rho)."""
    rhos = [1e3, 10.0, 1.0, 0.3, 0.1, 0.01]
    worst = max(_check_example(make("two_stage_example", 0, k=4, rho=r), r / (1 + r)) for r in rhos)
    return [row("T5.1", "two-stage: closed-form a*, gain, relative gain", "F example k=4, rho in {1e3 .. 0.01}",
                "max |measured - formula|", 0.0, worst, worst <= 1e-8, note="tolerance 1e-8")]


def T5_2(profile="quick"):
    """GD fine-tuning, s = (1 - eta)^K_ft: the same formulas."""
    cases = [(0.5, 1), (0.1, 5), (0.3, 3), (0.05, 20)]
    worst = max(_check_example(make("two_stage_example", 0, k=4, K_ft=K, eta_ft=eta), (1 - eta) ** K)
                for eta, K in cases)
    return [row("T5.2", "two-stage with GD fine-tuning", "F example, (eta, K_ft) in " + str(cases),
                "max |measured - formula|", 0.0, worst, worst <= 1e-8, note="tolerance 1e-8")]


def T5_3(profile="quick"):
    """Isotropic fine-tuning (S = s I) leaves alpha* unchanged: alpha*_two = alpha*_single."""
    worst = 0.0
    for seed in range(5):
        aware = make("two_stage", seed, ft_rank=None, rho=0.7)
        single = make("two_stage", seed, ft_rank=None, rho=0.7, stage_aware=False)
        worst = max(worst, float(np.abs(exact.optimum(aware).alpha - exact.optimum(single).alpha).max()))
    return [row("T5.3", "isotropic fine-tuning: no two-stage effect", "F random Family A, S = s I, seeds 0-4",
                "max |alpha*_two - alpha*_single|", 0.0, worst, worst <= 1e-8, note="tolerance 1e-8")]


def T5_4(profile="quick"):
    """Anisotropic fine-tuning: the two-stage optimum gains over the single-stage one whenever alpha*_single is not
    stationary for F_2 (FW gap of F_2 at alpha*_single > 1e-6)."""
    rows = []
    for seed in range(5):
        aware = make("two_stage", seed, ft_rank=2, rho=0.3)
        single = make("two_stage", seed, ft_rank=2, rho=0.3, stage_aware=False)
        a_single = exact.optimum(single).alpha
        opt2 = exact.optimum(aware)
        gap = exact.fw_gap(exact.hypergradient(aware, a_single), a_single)
        gain = exact.F(aware, a_single) - opt2.F
        rows.append(row("T5.4", "anisotropic fine-tuning: gain where alpha*_single is not stationary",
                        f"F random, fine-tuning rank 2 of 6, seed {seed}", "F_2(alpha*_single) - F_2(alpha*_two)",
                        "> 0 when FW gap > 1e-6", gain, (gain > 0) if gap > 1e-6 else (gain >= -1e-12),
                        note=f"FW gap of F_2 at alpha*_single {gap:.2e}"))
    return rows


def T5_5(profile="quick"):
    """Stage-aware vs stage-unaware TANDEM on the example (rho = 1): exact twins (lambda = 1e3) reach 0.2 and 0.5
    (1e-3), and so does the registered TANDEM loop with gamma = 1e3."""
    rows = []
    for aware, target in ((True, 0.2), (False, 0.5)):
        p = make("two_stage_example", 0, k=4, rho=1.0, stage_aware=aware)
        a_exact = exact.optimum_lambda(p, 1e3).alpha[0]
        a_loop = run_method("tandem", p, 6000, gamma=1e3, probe=4, episode=5, update="mirror").output[0]
        label = "stage-aware" if aware else "stage-unaware"
        for how, a in (("exact twins", a_exact), ("registered TANDEM loop", a_loop)):
            rows.append(row("T5.5", f"{label} TANDEM output", f"F example rho=1, {how}, lambda=1e3", "a = alpha_A",
                            target, a, abs(a - target) <= 1e-3, note="tolerance 1e-3"))
    return rows
