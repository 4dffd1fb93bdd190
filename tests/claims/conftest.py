"""Shared check for the claim tests: every verdict row holds, except the documented contradictions
(theory.claims.KNOWN_CONTRADICTIONS, theory/FINDINGS.md), which must still be contradicted."""

import math

import pytest

from theory.claims import KNOWN_CONTRADICTIONS, is_known_contradiction

KEYS = {"claim", "setting", "statistic", "expected", "measured", "ci_low", "ci_high", "holds"}


def _check(rows):
    assert rows, "no verdict rows"
    for r in rows:
        assert KEYS <= set(r), f"row lacks {KEYS - set(r)}"
        assert isinstance(r["holds"], bool)
        where = f"{r['claim']} [{r['setting']}]: {r['statistic']} measured {r['measured']!r}, expected " \
                f"{r['expected']!r} ({r['note']})"
        if is_known_contradiction(r):
            assert not r["holds"], "a documented contradiction now holds; update theory/FINDINGS.md: " + where
        else:
            assert r["holds"], where
        if isinstance(r["measured"], float) and r["holds"]:
            assert not math.isnan(r["measured"]), where
    ids = {r["id"] for r in rows}
    for k in KNOWN_CONTRADICTIONS:  # each documented contradiction names exactly one row of its ID
        if k.id in ids:
            n = sum(k.matches(r) for r in rows)
            assert n == 1, f"{k} matches {n} rows"
    return rows


@pytest.fixture
def verdict():
    return _check
