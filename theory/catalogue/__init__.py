"""The test catalogue of research/theory.md section 8, one function per ID, each returning verdict rows.

Every function takes ``profile`` ("quick": the default test run, a few seconds at most; "full": more seeds)
and computes its expectations from the closed forms. tests/claims runs them; theory.claims groups them into
the paper's claims for the reports."""

from __future__ import annotations

from . import t0_plumbing, t1_penalty, t2_twins, t3_balanced, t4_imbalanced, t5_two_stage, t6_schedules

_MODULES = (t0_plumbing, t1_penalty, t2_twins, t3_balanced, t4_imbalanced, t5_two_stage, t6_schedules)

# "T1.7m" is the stochastic rate on the registered TANDEM loop, added next to T1.7's model of it
CATALOGUE = {name.replace("_method", "m").replace("_", "."): getattr(mod, name)
             for mod in _MODULES for name in dir(mod)
             if name.startswith("T") and name[1].isdigit() and callable(getattr(mod, name))}
