"""T5: two-stage training, claim (c) second part."""

from theory import exact
from theory.catalogue import t5_two_stage as t5
from theory.families import make


def test_T5_1_ridge_finetuning_closed_form(verdict):
    verdict(t5.T5_1())
    s = 1 / 2  # rho = 1
    assert abs(exact.optimum(make("two_stage_example", 0, rho=1.0)).alpha[0] - s ** 2 / (1 + s ** 2)) < 1e-12


def test_T5_2_gd_finetuning_closed_form(verdict):
    verdict(t5.T5_2())


def test_T5_3_isotropic_finetuning_changes_nothing(verdict):
    verdict(t5.T5_3())


def test_T5_4_anisotropic_finetuning_gains(verdict):
    verdict(t5.T5_4())


def test_T5_5_stage_aware_tandem(verdict):
    verdict(t5.T5_5())
