"""theory: controlled problems with exact optima, penalty quantities, and the claims as functions.

Importing it registers the method that needs its exact solvers: "oracle" (theory/oracle.py)."""

from tandem_ref.registry import register

register("oracle", "theory.oracle:Oracle")
