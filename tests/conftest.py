# isort: off
import bench  # noqa: F401  first: it asks OpenBLAS for one kernel before numpy loads (bench/blas_kernel.py)
# isort: on
import numpy as np
import pytest

import theory  # noqa: F401  (registers the methods that need its exact solvers: "oracle")
from tandem_ref import QuadraticProblem


@pytest.fixture
def quad():
    """Family A, non-realizable and anisotropic (research/theory.md: seed 3, pert 1.5, aniso 5)."""
    return QuadraticProblem.random(m=3, d=6, aniso=5.0, pert=1.5, seed=3, sizes=[100.0, 300.0, 600.0])


def _permuted(problem: QuadraticProblem, perm) -> QuadraticProblem:
    perm = np.asarray(perm)
    return QuadraticProblem(problem.H[perm], problem.c[perm], problem.V, problem.theta_val, ridge=problem.ridge,
                            domains=[problem.domains[i] for i in perm],
                            sizes=None if problem.sizes is None else problem.sizes[perm],
                            lr=problem.lr, noise=problem.noise, init_scale=problem.init_scale)


@pytest.fixture
def permuted():
    """The same problem with its domains in another order."""
    return _permuted
