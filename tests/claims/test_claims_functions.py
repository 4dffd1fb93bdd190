"""theory.claims: every catalogue ID belongs to a claim, and the claim functions return well-formed rows."""

from theory.catalogue import CATALOGUE
from theory.claims import CLAIM_IDS, CLAIMS


def test_every_catalogue_id_is_in_a_claim():
    ids = [i for v in CLAIM_IDS.values() for i in v]
    assert sorted(ids) == sorted(CATALOGUE)
    assert len(ids) == len(set(ids))


def test_claim_function_rows(verdict):
    rows = verdict(CLAIMS["uniform_not_optimal_unequal_noise"]())
    assert all(r["id"] == "T3.6" for r in rows)
