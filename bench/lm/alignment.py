"""DoGE's per-domain gradient geometry without one backward call per domain.

The naive path (``LMProblem.naive_grad_stats``, DoGE's code) runs one backward per domain on that
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

Needs a single process and an uncompiled forward; ``LMProblem.grad_stats``
falls back to the naive path otherwise."""

from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, vmap
from torch.nn.attention import SDPBackend, sdpa_kernel

from .model import token_losses


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
