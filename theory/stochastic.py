"""The stochastic mode of the families: mini-batch noise in gradients, losses and signals.

A mini-batch of domain i sees L_i^B(theta) = L_i(theta) + sigma xi_i^T theta with xi_i ~ N(0, I) fresh
per batch (a least-squares batch with the population curvature and noisy labels). So
  a gradient step on G_alpha + v L_val uses  grad + sigma (sum_i alpha_i xi_i + v xi_val);
  the twin gap on one batch is exact + sigma xi_i^T (w - u)   (common random numbers: the batch is
  shared by both twins, so the noise scales with the twin distance, as with real batches);
  losses and DoGE's gradient alignments get the same per-domain perturbation.
Every draw comes from the rng the loop passes in, so runs stay deterministic functions of the seed.
"""

from __future__ import annotations

import numpy as np

from tandem_ref.problem import Cost, DomainGrads, PairedLosses


class MiniBatchNoise:
    """Mixin over a VectorProblem; ``noise`` is the per-domain batch-noise level sigma."""

    def _xi(self, rng, rows):
        return self.noise * rng.standard_normal((rows, self.dim))

    def _gradient_noise(self, alpha, val_weight, rng, shape):
        xi = self._xi(rng, len(alpha) + 1)
        return np.asarray(alpha) @ xi[:-1] + val_weight * xi[-1]

    def paired_losses(self, u, w, *, on_batch=False, rng=None):
        population = super().paired_losses(u, w)
        if rng is None:
            return population
        gap = -population.diff + self._xi(rng, len(self.domains)) @ (np.asarray(w) - np.asarray(u))
        return PairedLosses.population(-gap)

    def train_losses(self, state, rng=None):
        out = super().train_losses(state)
        return out if rng is None else out + self._xi(rng, len(self.domains)) @ np.asarray(state)

    def val_loss(self, state, rng=None):
        out = super().val_loss(state)
        return out if rng is None else out + float(self._xi(rng, 1)[0] @ np.asarray(state))

    def domain_grads(self, state, rng=None):
        if rng is None:
            return super().domain_grads(state)
        theta = np.asarray(state)
        self.cost.add(forward_evals=len(self.domains) + 1, flops=(len(self.domains) + 1) * self.flops_per_grad)
        xi = self._xi(rng, len(self.domains) + 1)
        G = self.grads_at(theta) + xi[:-1]
        gv = self.val_grad_at(theta) + xi[-1]
        return DomainGrads(align=G @ gv, norms=np.linalg.norm(G, axis=1), val_norm=float(np.linalg.norm(gv)))


def stochastic(problem, sigma: float):
    """A copy of ``problem`` in the stochastic mode with batch-noise level ``sigma`` (0 = deterministic)."""
    if not sigma:
        return problem
    cls = type(problem)
    if not issubclass(cls, MiniBatchNoise):
        cls = type(f"MiniBatch{cls.__name__}", (MiniBatchNoise, cls), {})
    out = cls.__new__(cls)
    out.__dict__.update(problem.__dict__)
    out.noise = float(sigma)
    out.cost = Cost()
    return out
