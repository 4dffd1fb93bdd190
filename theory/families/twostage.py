"""Family F: pre-train on the alpha-mixture, then fine-tune (theory.md section 5, F).

Pre-training gives theta_pre(alpha) (a Family A inner problem). Fine-tuning on target data maps it to
theta_ft = S theta_pre + (I - S) c_ft, with
    ridge-to-init:  S = rho (H_ft + rho I)^-1          K_ft GD steps:  S = (I - eta H_ft)^K_ft.
With c_ft = theta_tgt the two-stage objective is
    F_2(alpha) = 1/2 (theta_pre(alpha) - theta_tgt)^T S^T V S (theta_pre(alpha) - theta_tgt) + const,
i.e. the single-stage problem with validation metric S^T V S. The stage-aware problem is a
QuadraticProblem with V' = S^T V S (its reference trains on the mixture plus lambda^-1 L_val o ft); the
stage-unaware one keeps V (the validation loss applied to the pre-trained model).
"""

from __future__ import annotations

import numpy as np

from tandem_ref.errors import BadInput
from tandem_ref.quadratic import QuadraticProblem

from ..stochastic import stochastic
from . import spec as S
from .quadratic import quadratic_from_spec


def finetune_map(H_ft, *, rho=None, K_ft=None, eta=None):
    """S of ridge-to-init (rho) or of K_ft GD steps of size eta on 1/2 (theta - c_ft)^T H_ft (theta - c_ft)."""
    d = H_ft.shape[0]
    if rho is not None:
        return rho * np.linalg.inv(H_ft + rho * np.eye(d))
    if K_ft is None or eta is None:
        raise BadInput("finetune: give rho (ridge-to-init) or K_ft and eta (GD steps)")
    return np.linalg.matrix_power(np.eye(d) - eta * H_ft, int(K_ft))


def two_stage(pre: QuadraticProblem, Smap, stage_aware: bool = True) -> QuadraticProblem:
    """The two-stage problem over pre-training mixtures: V' = S^T V S, theta_v' = theta_tgt (c_ft = theta_tgt)."""
    V = Smap.T @ pre.V @ Smap if stage_aware else pre.V
    p = QuadraticProblem(pre.H, pre.c, V, pre.theta_val, ridge=pre.ridge, domains=pre.domains, sizes=pre.sizes)
    p.family, p.S, p.V_target, p.stage_aware = "two_stage", Smap, pre.V, stage_aware
    return p


def make_two_stage(seed=0, m=3, d=6, aniso=5.0, pert=1.0, ft_rank=None, ft_scale=1.0, rho=1.0, K_ft=None,
                   eta_ft=None, stage_aware=True, noise=0.0):
    """Random Family A pre-training; fine-tuning excites ``ft_rank`` random directions (None: all of them
    equally, the isotropic case S = s I)."""
    pre = QuadraticProblem.random(m=m, d=d, aniso=aniso, pert=pert, seed=seed)
    rng = np.random.default_rng([seed, 0xF7])
    if ft_rank is None:
        H_ft = ft_scale * np.eye(d)
    else:
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        lam = np.zeros(d)
        lam[:int(ft_rank)] = ft_scale * np.exp(rng.uniform(0, np.log(aniso), int(ft_rank)))
        H_ft = (q * lam) @ q.T
    Smap = finetune_map(H_ft, rho=None if K_ft is not None else rho, K_ft=K_ft, eta=eta_ft)
    p = two_stage(pre, Smap, stage_aware)
    p.params = dict(seed=seed, m=m, d=d, aniso=aniso, pert=pert, ft_rank=ft_rank, rho=rho, K_ft=K_ft,
                    eta_ft=eta_ft, stage_aware=stage_aware)
    return stochastic(p, noise)


def make_two_stage_example(seed=0, k=4, B=1.0, rho=1.0, K_ft=None, eta_ft=None, stage_aware=True, noise=0.0):
    """The closed-form example: d = 2k, w_A = (0, b), w_B = (b, 0), theta_tgt = 0, H = V = I; fine-tuning
    excites block 1 only, which keeps s = rho / (1 + rho) (or (1 - eta)^K_ft) of its error. With a = alpha_A:
    F_2(a) = 1/2 B^2 [s^2 (1 - a)^2 + a^2],  a*_two = s^2 / (1 + s^2),  a*_single = 1/2."""
    d = 2 * k
    b = np.full(k, B / np.sqrt(k))
    c = np.stack([np.concatenate([np.zeros(k), b]), np.concatenate([b, np.zeros(k)])])
    pre = QuadraticProblem(np.stack([np.eye(d)] * 2), c, np.eye(d), np.zeros(d), domains=["A", "B"])
    H_ft = np.diag(np.concatenate([np.ones(k), np.zeros(k)]))
    Smap = finetune_map(H_ft, rho=None if K_ft is not None else rho, K_ft=K_ft, eta=eta_ft)
    p = two_stage(pre, Smap, stage_aware)
    p.params = dict(k=k, B=B, rho=rho, K_ft=K_ft, eta_ft=eta_ft, stage_aware=stage_aware)
    return stochastic(p, noise)


def two_stage_from_spec(spec: dict):
    """{"family": "two_stage", the Family A fields (H, c, V, theta_val = the target, ridge, domains), "S": d x d
    fine-tuning map, "stage_aware": true}."""
    rest = {k: v for k, v in spec.items() if k not in ("S", "stage_aware")}
    pre = quadratic_from_spec({**rest, "family": "quadratic"})
    d = pre.dim
    Smap = S.array(spec, "S", 2)
    S.check_shape(Smap, (d, d), "S", f"a {d} x {d} fine-tuning map")
    aware = S.field(spec, "stage_aware", True)
    if not isinstance(aware, bool):
        raise BadInput(f"stage_aware: expected true or false, got {aware!r}")
    return stochastic(two_stage(pre, Smap, aware), pre.noise)
