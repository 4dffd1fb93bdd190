"""DoGE's per-domain gradient geometry without one backward call per domain.

The naive path (``domain_grads(fast=False)``, DoGE's code) runs one backward per domain on that
domain's share of the proxy's next training batch. Here every domain's gradient comes from one vectorised call:
``torch.func.vmap`` over the domain axis of ``torch.func.grad`` of the domain's weighted token
loss, so each domain's gradient is the exact gradient of its own rows (the same arithmetic as
the naive path, batched into one set of kernels whose size grows with the rows, not with the
number of calls). The validation gradient is one ordinary backward. From the (M, P) matrix of
gradients, align = G g_val and norms = ||G_i|| are *exact*, so DoGE's norm clipping and its
mean-norm normalisation need no approximation (a forward-mode ``jvp`` along g_val would give the
alignments alone, but not the norms the clipping needs).

Cost (results/perf/summary.md): on the tiny GPT the batched call costs about 1.4x one ordinary
backward over the same rows (batched weight-gradient products and attention's math kernels); the
proxy's step then reuses these gradients, so DoGE's step is this call, the validation backward and
an optimizer step.

Needs a single process and an uncompiled forward; ``LMProblem.domain_grads``
falls back to the naive path otherwise."""

from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, vmap
from torch.nn.attention import SDPBackend, sdpa_kernel

from tandem_ref.problem import DomainGrads

from .model import token_losses
from .trainer import flat


def per_domain_gradients(trainer, params, rows: list[np.ndarray], weights: list[np.ndarray]) -> torch.Tensor:
    """(M, P) float32 matrix of grad_w sum_t weights_i[t] loss_t over domain i's rows, for all i at once.

    Domains with fewer rows are padded to the most rows with a copy of some row at weight 0, which
    adds exactly nothing to their gradient (a domain with no rows gets a zero gradient)."""
    n = max(len(r) for r in rows)
    filler = next(r[:1] for r in rows if len(r))
    rows = [np.concatenate([r, np.repeat(filler, n - len(r), 0)]) for r in rows]
    weights = [np.concatenate([w, np.zeros((n - len(w), filler.shape[1] - 1))]) for w in weights]
    x = torch.as_tensor(np.stack(rows).astype(np.int64), device=trainer.device)  # (M, n, T + 1)
    w = torch.as_tensor(np.stack(weights), dtype=torch.float32, device=trainer.device)  # (M, n, T)
    leaves = [p.detach() for p in params]

    def domain_loss(ps, xi, wi):
        with trainer._autocast():
            return (token_losses(trainer._forward(ps, xi[:, :-1]), xi[:, 1:]) * wi).sum()

    # the math kernel of attention is made of batchable ops; the fused CPU kernel has no vmap rule
    with sdpa_kernel(SDPBackend.MATH):
        gs = vmap(grad(domain_loss), in_dims=(None, 0, 0))(leaves, x, w)
    return torch.cat([g.reshape(len(rows), -1).float() for g in gs], dim=1)


def domain_grads(problem, state, fast: bool) -> DomainGrads:
    """DoGE's inputs for an LM problem (``LMProblem.domain_grads``: when each path is taken): every
    domain's gradient on its share of the proxy's next training batch (``fast``: one vectorised
    call; else one backward per domain, as DoGE's code does), the validation gradient, their
    alignments and norms, and ``step``, the proxy's step from those same gradients."""
    trainer, dist, batches = problem.trainer, problem.dist, problem.batches
    per, cursor = batches.by_domain(state)
    weights = [mk / max(mk.sum(), 1e-300) for _, mk in per]
    if fast:
        G = per_domain_gradients(trainer, state.params, [r for r, _ in per], weights)
    else:
        P = sum(p.numel() for p in state.params)
        G = torch.stack([flat(trainer.gradient(state.params, r[dist.rows(len(r))], wt[dist.rows(len(r))]))
                         if len(r) else torch.zeros(P) for (r, _), wt in zip(per, weights)])
    vr, vw = batches.val(state, 1.0)
    vr, vw = np.concatenate(vr), np.concatenate(vw)
    mine = dist.rows(len(vr))
    gv = flat(trainer.gradient(state.params, vr[mine], vw[mine]))
    T = problem.data.seq_len
    problem.cost.add(forward_evals=1, flops=6.0 * trainer.n_params * len(vr) * T)  # the validation backward
    n_rows = sum(len(r) for r, _ in per)

    def step(coef, lr: float | None = None):
        """The proxy's step on sum_i coef_i g_i (the batch's backward is charged here, as a step's)."""
        g = torch.as_tensor(np.asarray(coef, dtype=np.float64), dtype=G.dtype) @ G
        nxt = state.copy()
        nxt.cursor = cursor.copy()
        grads, o = [], 0
        for p in nxt.params:
            grads.append(g[o:o + p.numel()].view_as(p).to(p.dtype))
            o += p.numel()
        trainer.apply(nxt, grads, lr)
        tokens = n_rows * T
        problem.cost.add(grad_steps=1, examples=n_rows, tokens=tokens, flops=6.0 * trainer.n_params * tokens)
        return nxt

    Gd = G.double()
    return DomainGrads(align=(Gd @ gv.double()).numpy(), norms=Gd.norm(dim=1).numpy(), val_norm=float(gv.norm()),
                     step=step)
