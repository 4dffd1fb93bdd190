"""T6: predictions by reference schedule (research/theory.md section 7)."""

from theory.catalogue import t6_schedules as t6


def test_T6_1_realizable_nonuniform_beta(verdict):
    verdict(t6.T6_1())


def test_T6_2_doremi_is_validation_agnostic(verdict):
    verdict(t6.T6_2())


def test_T6_3_doge_bias_grows_with_anisotropy(verdict):
    verdict(t6.T6_3())


def test_T6_4_val_only_reference_fixed_point(verdict):
    verdict(t6.T6_4())


def test_T6_5_ema_of_proxy_is_a_negative_control(verdict):
    verdict(t6.T6_5())


def test_T6_6_signal_ema_keeps_the_fixed_point(verdict):
    verdict(t6.T6_6())


def test_T6_7_linear_mixing_law_fidelity(verdict):
    verdict(t6.T6_7())
