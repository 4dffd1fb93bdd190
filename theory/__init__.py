"""theory: controlled problems with exact optima, penalty quantities, and the claims as functions."""
