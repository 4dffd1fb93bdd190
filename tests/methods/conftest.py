"""Fixtures for the peer methods' tests."""

import numpy as np
import pytest
from known_optima import ExactLawProblem

from tandem_ref import QuadraticProblem


@pytest.fixture
def exact_law():
    T = -5.0 * np.eye(3) + np.array([[0.0, 0.7, -0.4], [0.3, 0.0, 0.5], [-0.6, 0.2, 0.0]])
    return ExactLawProblem(s=[0.5, 0.3, 0.2], b=[0.0, 0.2, -0.1], T=T)


@pytest.fixture
def family_a():
    """Family A, non-realizable, anisotropic, alpha* interior (research/theory.md section 5)."""
    p = QuadraticProblem.random(m=3, d=6, aniso=4.0, pert=1.0, seed=10, sizes=[200.0, 300.0, 500.0])
    return p
