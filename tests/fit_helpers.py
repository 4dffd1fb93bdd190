"""Helpers of the `tandem-bench fit` tests: write proxy-run tables, run the command line in-process."""

import csv
from pathlib import Path

from bench.cli import main

ROOT = Path(__file__).resolve().parents[1]


def write_table(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def tables(folder, X, y, domains, ids=None, stem=""):
    ids = list(range(1, len(y) + 1)) if ids is None else ids
    rows = [[i, *(repr(float(v)) for v in x)] for i, x in zip(ids, X)]  # repr: every digit of the float
    mix = write_table(folder / f"{stem}mixtures.csv", ["index", *domains], rows)
    losses = [[i, repr(float(v)), "x"] for i, v in zip(ids, y)]
    met = write_table(folder / f"{stem}metrics.csv", ["index", "F", "other"], losses)
    return mix, met


def run_cli(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err
