"""T2: twin networks and inexact inner loops."""

from theory.catalogue import t2_twins as t2


def test_T2_1_kprobe_truncation_rate(verdict):
    verdict(t2.T2_1())


def test_T2_1b_one_probe_step_is_doge(verdict):
    verdict(t2.T2_1b())


def test_T2_2_twin_reset_error_does_not_grow_with_lambda(verdict):
    verdict(t2.T2_2())


def test_T2_3_deterministic_loop_reaches_fixed_points(verdict):
    verdict(t2.T2_3())


def test_T2_4_persistent_reference_collapses(verdict):
    verdict(t2.T2_4())


def test_T2_5_budgeted_probe_length_is_interior(verdict):
    rows = verdict(t2.T2_5())
    # the U-shape's interior argmin holds on the interior instances; seed 3 (alpha* on a face) is the documented
    # contradiction, where the best K is still interior (not 1 and not 64)
    assert all(1 < r["measured"] < 64 for r in rows)


def test_T2_6_stale_reference(verdict):
    verdict(t2.T2_6())
