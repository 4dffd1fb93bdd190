"""The peer methods are registered, refuse bad parameters with one line naming the parameter, run on any
Problem through the protocol, and report comparable costs; the oracle is the exact optimum or refuses."""

import subprocess
import sys

import numpy as np
import pytest
from known_optima import quadratic_alpha_star

from tandem_ref import BadInput, get_method, method_names

PEERS = ["odm", "aioli", "skill-it", "regmix", "mixing-laws", "random-search", "oracle"]
SMALL = {"odm": {}, "aioli": {"update_steps": 24, "lp_rounds": 1, "lp_steps": 2},
         "skill-it": {"update_steps": 10, "graph_steps": 20}, "regmix": {"probes": 16, "simulations": 2000},
         "mixing-laws": {"probes": 8, "starts": 2, "implicit_domains": 1}, "random-search": {"probes": 4},
         "oracle": {}}


def test_peers_are_registered_after_the_core_five():
    names = method_names()
    assert names[:5] == ["uniform", "natural", "doremi", "doge", "tandem"]
    # a method added later (the README's recipe) comes after these and breaks nothing here
    # "oracle" is registered by theory when it is imported (it needs the exact solvers), after the library's own
    own = [p for p in PEERS if p != "oracle"] + ["fixed"]
    assert [n for n in names[5:] if n in PEERS + ["fixed"]] == own + ["oracle"]


def test_the_readmes_recipe_for_a_new_method_works(tmp_path, monkeypatch):
    """The two code blocks of the README's "Adding a method", as a user would write them: the file
    (here a module on a temporary path) and the registry line; the method then runs on the loop,
    appears in the listing, and no test had to change."""
    import re
    import sys
    from pathlib import Path

    from tandem_ref import registry

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Adding a method"):]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    code, line = blocks[0], blocks[1]
    assert "tandem_ref/methods/my_method.py" in code and '"my-method"' in line
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "my_method_pkg").mkdir()
    (tmp_path / "my_method_pkg" / "__init__.py").write_text("")
    # the file's relative imports are those of tandem_ref/methods/: run it as a module of that package
    (tmp_path / "my_method_pkg" / "my_method.py").write_text(code.replace("from ..", "from tandem_ref.")
                                                              .replace("from .base", "from tandem_ref.methods.base"))
    name, target = re.search(r'"([^"]+)":\s*"([^"]+)"', line).groups()
    monkeypatch.setitem(registry.METHODS, name, target.replace("tandem_ref.methods.", "my_method_pkg."))
    monkeypatch.delitem(sys.modules, "my_method_pkg.my_method", raising=False)
    assert name in method_names()
    from tandem_ref import QuadraticProblem

    tr = get_method(name).run(QuadraticProblem.random(m=3, d=4, seed=0), budget=40, seed=0)
    assert tr.output.shape == (3,) and abs(tr.output.sum() - 1) < 1e-12


BAD = [
    ("odm", {"rule": "ucb"}, "rule"), ("odm", {"smoothing": 1.0}, "smoothing"), ("odm", {"warmup": -1}, "warmup"),
    ("odm", {"draws": 0}, "draws"), ("odm", {"update_frequency": 1.5}, "update_frequency"),
    ("odm", {"initial": "natural"}, "initial"),
    ("aioli", {"eta": 0}, "eta"), ("aioli", {"lp_rounds": 0}, "lp_rounds"), ("aioli", {"ema": 1.0}, "ema"),
    ("aioli", {"one_hot_factor": 0.0}, "one_hot_factor"), ("aioli", {"target": "train"}, "target"),
    ("aioli", {"diagonal": True}, "diagonal"),
    ("skill-it", {"window": 0}, "window"), ("skill-it", {"graph": "binary"}, "graph"),
    ("skill-it", {"eta": float("nan")}, "eta"), ("skill-it", {"graph_steps": 0}, "graph_steps"),
    ("regmix", {"regressor": "xgboost"}, "regressor"), ("regmix", {"probes": 0}, "probes"),
    ("regmix", {"top_k": 10, "simulations": 5}, "top_k"), ("regmix", {"temperature": -1}, "temperature"),
    ("mixing-laws", {"starts": 0}, "starts"), ("mixing-laws", {"implicit_domains": 2.5}, "implicit_domains"),
    ("mixing-laws", {"huber_delta": 0}, "huber_delta"),
    ("random-search", {"probe_steps": 0}, "probe_steps"), ("random-search", {"concentration": -2}, "concentration"),
    ("oracle", {"probes": 3}, "probes"),
]


@pytest.mark.parametrize("name,params,field", BAD, ids=[f"{n}-{f}" for n, _, f in BAD])
def test_bad_parameters_give_one_line_errors_naming_the_parameter(name, params, field):
    with pytest.raises(BadInput) as e:
        get_method(name, **params)
    msg = str(e.value)
    assert f"'{field}'" in msg and "\n" not in msg


def test_errors_that_need_the_problem_name_the_parameter(family_a):
    with pytest.raises(BadInput, match="'update_steps'.*LearnParams") as e:
        get_method("aioli", update_steps=40).run(family_a, 100)  # 4 x 4 x 3 = 48 LearnParams steps
    assert "\n" not in str(e.value)
    with pytest.raises(BadInput, match="budget"):
        get_method("regmix").run(family_a, 0)


@pytest.mark.parametrize("name", PEERS)
def test_every_peer_runs_and_returns_a_mixture_with_its_cost(family_a, name):
    t = get_method(name, **SMALL[name]).run(family_a, 60, 1)
    assert np.isclose(t.output.sum(), 1) and np.all(t.output >= 0)
    assert t.domains == list(family_a.domains)
    assert set(t.cost) == {"grad_steps", "forward_evals", "examples", "tokens", "flops"}
    expected = {"odm": 60, "aioli": 60, "skill-it": 60 + 3 * 20, "regmix": 16 * 60, "mixing-laws": 8 * 60,
                "random-search": 4 * 60, "oracle": 0}[name]
    assert t.cost["grad_steps"] == expected


def test_oracle_is_the_exact_optimum(family_a):
    t = get_method("oracle").run(family_a, 1)
    np.testing.assert_allclose(t.output, quadratic_alpha_star(family_a), atol=1e-6)
    assert t.cost["grad_steps"] == 0


def test_oracle_refuses_a_problem_without_an_exact_optimum(exact_law):
    with pytest.raises(BadInput, match="problem 'ExactLawProblem' has no exact optimum") as e:
        get_method("oracle").run(exact_law, 1)
    assert "\n" not in str(e.value)


def test_the_oracle_is_registered_by_theory_and_a_name_only_once():
    import tandem_ref.registry as r

    code = "import tandem_ref.registry as r; a = 'oracle' in r.METHODS; import theory; print(a, 'oracle' in r.METHODS)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
    r.register("oracle", "theory.oracle:Oracle")  # the same entry again: fine
    with pytest.raises(ValueError, match="already registered"):
        r.register("oracle", "elsewhere:Oracle")


def test_tandem_ref_does_not_import_theory_at_import_time():
    code = ("import sys, tandem_ref, tandem_ref.registry as r; [r.method_class(n) for n in r.METHODS]; "
            "import tandem_ref.probes; print(any(k == 'theory' or k.startswith('theory.') for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_aioli_diagonal_applies_only_with_smoothed_one_hots(family_a):
    """Aioli's code puts both the solve and --aioli_diagonal under `if one_hot_factor != 1`: with pure
    one-hots (f = 1) A is G itself, so diagonal=True changes nothing; with f < 1 it does."""
    kw = {"update_steps": 24, "lp_rounds": 1, "lp_steps": 2, "target": "domains"}
    same = [get_method("aioli", one_hot_factor=1.0, diagonal=d, **kw).run(family_a, 96, 0).output
            for d in (False, True)]
    assert np.array_equal(same[0], same[1])
    differ = [get_method("aioli", one_hot_factor=0.625, diagonal=d, **kw).run(family_a, 96, 0).output
              for d in (False, True)]
    assert not np.allclose(differ[0], differ[1])
