"""Per-domain signals comparing proxy u and reference w. Higher score = up-weight the domain.

Conventions follow research/tandem_paper.md Table 1 with the sign flipped to a score to ascend:
  TwinGap        s_i = gamma (L_i(u) - L_i(w))            = -gamma Delta_i   (TANDEM, Danskin)
  ClippedExcess  s_i = max(L_i(u) - L_i(w), 0)                             (DoReMi)
  GradAlignment  s_i = <grad L_i(u), grad L_val(u)>, as DoGE's code scales and clips it
"""

from __future__ import annotations

import numpy as np

from .problem import current_lr


class Signal:
    uses_reference: bool = True

    def __call__(self, ctx) -> tuple[np.ndarray, dict]:
        raise NotImplementedError


class TwinGap(Signal):
    """TANDEM's hypergradient: d/d alpha_i of H_gamma is gamma (L_i(w) - L_i(u)) (Danskin on
    research/tandem_paper.md Eq. 2). Both losses are taken on the same batch."""

    def __init__(self, gamma: float = 1.0):
        self.gamma = float(gamma)

    def __call__(self, ctx):
        # Delta_i = L_i(w) - L_i(u) = -(L_i(u) - L_i(w)); as 0 - diff, so that equal losses give +0 as w - u does
        delta = 0.0 - ctx.problem.paired_losses(ctx.proxy, ctx.reference, rng=ctx.rng).diff
        return -self.gamma * delta, {"penalty_gap": float(ctx.alpha @ delta)}


class ClippedExcess(Signal):
    """DoReMi's excess loss lambda_i = mean over domain i's tokens of max(l_proxy - l_ref, 0), on the
    proxy's next training batch (research/peer_rules.md section 1)."""

    def __init__(self, clip: bool = True):
        self.clip = bool(clip)

    def __call__(self, ctx):
        paired = ctx.problem.paired_losses(ctx.proxy, ctx.reference, on_batch=True, rng=ctx.rng)
        lam = np.asarray(paired.excess if self.clip else paired.diff, dtype=float)
        if np.isnan(lam).any():  # a domain absent from the batch keeps its previous lambda (DoReMi's code; 0 before)
            lam = np.where(np.isnan(lam), ctx.memory.get("excess_prev", np.zeros_like(lam)), lam)
        ctx.memory["excess_prev"] = lam
        return lam, {}


class GradAlignment(Signal):
    """DoGE's generalisation estimate, as its code computes it (research/peer_rules.md section 2):

    each gradient norm-clipped to ``max_grad_norm``; S_i = <g_i, g_val>;
    W_i = eta_t S_i / (mean_l ||g_l|| + 1e-6) if ``normalize``; W clipped to [eta_t dw_min, eta_t dw_max].
    ``max_grad_norm``/``dw_min``/``dw_max`` = None switch each part off (the paper's plain rule).
    eta_t is the proxy's *scheduled* rate at this step from base ``lr`` (None: the problem's), as
    DoGE's code reads ``lr_scheduler.get_last_lr()``: during a warm-up it is the warmed-up rate."""

    uses_reference = False

    def __init__(self, lr: float | None = None, normalize=True, dw_min=0.0, dw_max=5.0, max_grad_norm=5.0):
        self.lr, self.normalize = (None if lr is None else float(lr)), bool(normalize)
        self.dw_min, self.dw_max, self.max_grad_norm = dw_min, dw_max, max_grad_norm

    def __call__(self, ctx):
        st = ctx.problem.domain_grads(ctx.proxy, rng=ctx.rng)
        norms, align, vnorm = st.norms, st.align, st.val_norm
        if self.max_grad_norm is not None:
            ci = np.minimum(1.0, self.max_grad_norm / np.maximum(norms, 1e-300))
            cv = min(1.0, self.max_grad_norm / max(vnorm, 1e-300))
            align, norms = align * ci * cv, norms * ci
        eta = current_lr(ctx.problem, ctx.proxy, self.lr)
        w = eta * align
        if self.normalize:
            w = w / (norms.mean() + 1e-6)
        lo = -np.inf if self.dw_min is None else eta * self.dw_min
        hi = np.inf if self.dw_max is None else eta * self.dw_max
        info = {"alignment": align}
        if st.step is not None:  # DoGE's proxy step: sum_i alpha_i g_i of the same (clipped) gradients
            clip = ci if self.max_grad_norm is not None else 1.0
            info["proxy_step"] = lambda alpha, lr: st.step(np.asarray(alpha) * clip, lr)
        return np.clip(w, lo, hi), info
