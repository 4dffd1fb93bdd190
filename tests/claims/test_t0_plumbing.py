"""T0: plumbing (research/theory.md section 8). Expectations come from closed forms inside theory.catalogue."""

from theory.catalogue import t0_plumbing as t0


def test_T0_1_implicit_hypergradient_matches_finite_differences(verdict):
    rows = verdict(t0.T0_1())
    assert {r["setting"].split(",")[0] for r in rows} == {"A", "E"}


def test_T0_2_danskin_gradient_of_penalty(verdict):
    assert len(verdict(t0.T0_2())) == 3


def test_T0_3_sandwich_and_monotone_penalty(verdict):
    verdict(t0.T0_3())


def test_T0_4_identical_twins_never_move(verdict):
    verdict(t0.T0_4())


def test_T0_5_qp_bfgs_kkt_grid_agree(verdict):
    verdict(t0.T0_5())
