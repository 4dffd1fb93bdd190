"""The runner: every cell stored once, failures recorded and skipped over, parallel equals serial,
a checkpointed cell resumes bitwise, and the tidy table has one row per cell per logged step."""

import json

import numpy as np
import pandas as pd
import pytest
from harness_helpers import comparable, write_suite

from bench import results
from bench.compute import Planned, compute
from bench.runner import plan, sweep
from bench.suites import load


def test_a_second_sweep_recomputes_nothing(small_suite, tmp_path):
    suite = load(str(small_suite))
    out = tmp_path / "out"
    first = sweep(suite, "quick", out, progress=False)
    assert first["computed"] == first["cells"] == 16 and first["failed"] == 0
    files = sorted((out / "small" / "cells").glob("*.json"))
    assert len(files) == 16
    stamps = [f.stat().st_mtime_ns for f in files]
    run = json.loads((out / "small" / "run.json").read_text())
    assert run["fresh"] and run["computed"] == run["cells"] == 16 and run["jobs"] == 1 and run["wall_s"] > 0
    assert run["cell_seconds"] == pytest.approx(pd.read_parquet(out / "small" / "results.parquet")
                                                .drop_duplicates("key")["wall_s"].sum(), abs=0.1)
    again = sweep(suite, "quick", out, progress=False)
    assert again["computed"] == 0
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert json.loads((out / "small" / "run.json").read_text()) == run  # a cached sweep keeps the fresh run's record


def test_tidy_table_has_one_row_per_cell_per_logged_step(small_suite, tmp_path):
    suite = load(str(small_suite))
    sweep(suite, "quick", tmp_path, progress=False, csv=True)
    df = pd.read_parquet(tmp_path / "small" / "results.parquet")
    assert (tmp_path / "small" / "results.csv").exists()
    for key, g in df.groupby("key"):
        assert g["final"].sum() == 1  # the returned mixture, once
        logged = (~g["final"].astype(bool)).sum()
        assert logged == (0 if g["method"].iloc[0] == "uniform" else min(6 if g["study"].iloc[0] == "grid" else 3,
                                                                        g["update"].max()))
    for col in ["seed", "budget", "cost.grad_steps", "package_version", "git_commit", "torch_version", "device",
                "method.gamma", "problem.pert", "l1", "regret", "gain_captured", "alpha.d0", "alpha_star.d0"]:
        assert col in df.columns, col
    fin = df[df["final"].astype(bool)]
    assert np.allclose(fin[[f"alpha.d{i}" for i in range(3)]].sum(axis=1), 1.0)
    assert (fin.loc[fin["method"] == "uniform", "cost.grad_steps"] == 0).all()
    assert (fin.loc[fin["method"] == "doremi", "cost.grad_steps"] > 0).all()


def test_a_failing_cell_is_stored_with_its_reason_and_the_sweep_goes_on(tmp_path):
    text = """
    [methods.exploding]   # a proxy step far above 2 / L: the proxy diverges
    method = "tandem"
    eta_u = 100.0
    [[study]]
    name = "s"
    problems = ["quadratic"]
    methods = ["exploding", "tandem"]
    budget = 100
    """
    suite = load(str(write_suite(tmp_path, "bad", text=text)))
    counts = sweep(suite, "quick", tmp_path / "out", progress=False)
    assert counts == {"cells": 2, "computed": 2, "failed": 1, "missing": 0}
    df = pd.read_parquet(tmp_path / "out" / "bad" / "results.parquet")
    bad = df[df["method"] == "exploding"]
    assert len(bad) == 1 and bad["status"].iloc[0] == "failed" and "non-finite" in bad["reason"].iloc[0]
    assert (df.loc[df["method"] == "tandem", "status"] == "ok").all()
    # failed cells are results too: not recomputed unless asked
    assert sweep(suite, "quick", tmp_path / "out", progress=False)["computed"] == 0
    assert sweep(suite, "quick", tmp_path / "out", progress=False, retry_failed=True)["computed"] == 1


def test_parallel_processes_give_the_serial_results(small_suite, tmp_path):
    suite = load(str(small_suite))
    sweep(suite, "quick", tmp_path / "serial", jobs=1, progress=False)
    sweep(suite, "quick", tmp_path / "parallel", jobs=2, progress=False)
    a = pd.read_parquet(tmp_path / "serial" / "small" / "results.parquet")
    b = pd.read_parquet(tmp_path / "parallel" / "small" / "results.parquet")
    pd.testing.assert_frame_equal(comparable(a), comparable(b))


def test_a_long_cell_resumes_from_its_checkpoint_bitwise(tmp_path):
    from bench.compute import build
    from tandem_ref.loop import save_state

    text = """
    [[study]]
    name = "s"
    problems = ["quadratic"]
    methods = ["tandem"]
    budget = 300
    checkpoint_every = 7
    """
    p = plan(load(str(write_suite(tmp_path, "ck", text=text))), "quick")[0]
    plain_cell = Planned(p.key, type(p.cell)(**{**p.cell.as_dict(), "checkpoint_every": 0}), p.config)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = compute(plain_cell, tmp_path / "a")
    # a sweep killed mid-cell leaves the loop state of its last checkpoint: resume from it
    problem, method = build(p.cell)
    st = method.advance(problem, method.start(problem, p.cell.budget, p.cell.seed), stop_after=21)
    save_state(problem, st, tmp_path / "b" / f"{p.key}.state.npz")
    resumed = compute(p, tmp_path / "b")
    assert resumed["status"] == whole["status"] == "ok"
    assert json.dumps(resumed["rows"]) == json.dumps(whole["rows"])
    assert not (tmp_path / "b" / f"{p.key}.state.npz").exists()


def test_partial_files_of_a_killed_writer_are_removed_and_never_read(small_suite, tmp_path):
    suite = load(str(small_suite))
    cells = tmp_path / "small" / "cells"
    cells.mkdir(parents=True)
    (cells / (results.TMP_PREFIX + "abc.json")).write_text('{"key": "trunc')
    sweep(suite, "quick", tmp_path, progress=False)
    assert not list(tmp_path.rglob(results.TMP_PREFIX + "*"))


def test_jobs_must_be_positive(small_suite, tmp_path):
    from tandem_ref.errors import BadInput

    with pytest.raises(BadInput, match="--jobs"):
        sweep(load(str(small_suite)), "quick", tmp_path, jobs=-1, progress=False)


ORDER_SUITE = """
[[study]]
name = "order"
problems = [{problems}]
methods = [{methods}]
seeds = 2
budget = 40
log_points = 3
"""


def test_tables_do_not_depend_on_method_order_problem_order_or_jobs(tmp_path):
    """The same cells listed in another order and run with --jobs 1 or 2 give the same tidy table,
    bit for bit (scores included: the exact optimum of the logistic family once depended on what
    was solved before it in the same process)."""
    fwd = write_suite(tmp_path, "fwd", text=ORDER_SUITE.format(problems='"logistic", "quadratic"',
                                                                methods='"uniform", "doremi", "tandem"'))
    rev = write_suite(tmp_path, "rev", text=ORDER_SUITE.format(problems='"quadratic", "logistic"',
                                                                methods='"tandem", "doremi", "uniform"'))
    sweep(load(str(fwd)), "quick", tmp_path / "a", jobs=1, progress=False)
    sweep(load(str(rev)), "quick", tmp_path / "b", jobs=2, progress=False)
    a = pd.read_parquet(tmp_path / "a" / "fwd" / "results.parquet").drop(columns=["suite"])
    b = pd.read_parquet(tmp_path / "b" / "rev" / "results.parquet").drop(columns=["suite"])
    assert a["key"].nunique() == 12 and "regret" in a.columns
    assert set(a.columns) == set(b.columns)  # columns come in the order methods first report them
    cols = sorted(a.columns)
    pd.testing.assert_frame_equal(comparable(a[cols]), comparable(b[cols]), check_exact=True)


def test_a_cell_computes_single_threaded_in_any_process():
    """--jobs 1 computes in the sweep's own process, --jobs N in workers started with one BLAS thread:
    a cell pins one BLAS and one torch thread wherever it runs (a mixing-law fit's chosen mixture moved
    in its last bit between the two before), and gives the process its threads back afterwards."""
    import torch
    from threadpoolctl import threadpool_info

    from bench.compute import single_threaded

    torch.set_num_threads(2)
    with single_threaded() as pin_torch:
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
        assert torch.get_num_threads() == 1
        pin_torch(3)  # a problem's own "threads" setting
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == 2


def test_one_pool_across_suites_and_longest_first_give_the_serial_results(small_suite, tmp_path):
    """reproduce keeps one set of workers for every suite (bench.runner.worker_pool) and orders a
    suite's cells by the stored durations of the last sweep (longest_first): same bits as serial."""
    from bench.runner import longest_first, worker_pool

    suite = load(str(small_suite))
    sweep(suite, "quick", tmp_path / "serial", jobs=1, progress=False)
    a = pd.read_parquet(tmp_path / "serial" / "small" / "results.parquet")
    # the durations the next sweep of that folder orders by: the longest (study, problem, method) first
    planned = plan(suite, "quick")
    order = longest_first(planned, tmp_path / "serial" / "small")
    took = a.drop_duplicates("key").groupby(["study", "problem", "method"])["wall_s"].mean()
    seq = [took[(p.cell.labels["study"], p.cell.labels["problem_label"], p.cell.labels["method_label"])] for p in order]
    assert seq == sorted(seq, reverse=True) and sorted(p.key for p in order) == sorted(p.key for p in planned)
    assert longest_first(planned, tmp_path / "nothing-stored") == planned  # no table: plan order
    with worker_pool(2) as pool:
        for out in ("pooled", "pooled-again"):
            sweep(suite, "quick", tmp_path / out, jobs=2, progress=False, pool=pool)
    for out in ("pooled", "pooled-again"):
        b = pd.read_parquet(tmp_path / out / "small" / "results.parquet")
        pd.testing.assert_frame_equal(comparable(a), comparable(b))
