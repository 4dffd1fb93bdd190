import json

import numpy as np
import pytest

from bench.cli import main
from bench.lm.corpus import Corpus, Domain, read_domains
from bench.lm.corpus_card import corpus_table
from bench.lm.tokens import END, Stream, split_documents, tokenize, windows
from tandem_ref.errors import BadInput


def test_embedded_corpus_has_imbalanced_styles(embedded):
    assert len(embedded.domains) >= 6
    sizes = np.array([d.nbytes for d in embedded.domains], dtype=float)
    assert sizes.max() / sizes.min() > 20  # the natural mixture is far from uniform
    for d in embedded.domains:
        assert len(d.docs) >= 3 and d.nbytes > 20_000, d.name


def test_embedded_corpus_is_deterministic(embedded):
    from bench.lm.corpus import embedded_corpus

    again = embedded_corpus.__wrapped__()
    assert again.fingerprint == embedded.fingerprint
    assert [d.docs[:3] for d in again.domains] == [d.docs[:3] for d in embedded.domains]


def test_corpus_md_is_current(embedded):
    from pathlib import Path

    import bench.lm.corpus_card as mod

    text = Path(mod.__file__).with_name("CORPUS.md").read_text()
    assert corpus_table(embedded) in text and embedded.fingerprint in text


def test_splits_share_no_document(embedded):
    for d in embedded.domains:
        parts = split_documents(d)
        seen = [set(parts[s]) for s in ("train", "val", "test")]
        assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
        assert sum(len(p) for p in parts.values()) == len(set(d.docs))
        train_share = sum(map(len, parts["train"])) / d.nbytes
        assert 0.6 < train_share < 0.97, (d.name, train_share)


def test_windows_and_stream_visit_each_sequence_once_per_epoch():
    stream = np.arange(1 + 5 * 4, dtype=np.uint16)
    w = windows(stream, 4)
    assert w.shape == (5, 5) and list(w[1]) == [4, 5, 6, 7, 8]
    s = Stream(5, seed=3, index=1)
    ids = s.ids(0, 15)
    for e in range(3):
        assert sorted(ids[5 * e:5 * e + 5]) == list(range(5))
    assert list(Stream(5, 3, 1).ids(7, 4)) == list(ids[7:11])  # a function of the position only
    assert list(Stream(5, 4, 1).ids(0, 5)) != list(ids[:5]) or list(Stream(5, 5, 1).ids(0, 5)) != list(ids[:5])


def test_token_budget_caps_unique_tokens(toy_corpus):
    full = tokenize(toy_corpus, 16)
    capped = tokenize(toy_corpus, 16, train_tokens={"letters": 200})
    assert capped["letters"]["train"].n_tokens == 16 * ((200 - 1) // 16)
    assert capped["digits"]["train"].n_tokens == full["digits"]["train"].n_tokens
    assert capped.fingerprint != full.fingerprint
    assert full["letters"]["train"].tokens.max() <= END


def _write(path, text):
    path.write_text(text)
    return path


def test_folders_text_files_and_jsonl(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    for i in range(4):
        _write(tmp_path / "a" / f"f{i}.txt", f"document {i} " * 20)
    _write(tmp_path / "a" / ".hidden", "skipped")
    _write(tmp_path / "b.txt", "\n\n".join(f"paragraph {i}" for i in range(5)))
    rec = lambda t, d: json.dumps({"text": t, "meta": {"redpajama_set_name": d}})  # noqa: E731
    _write(tmp_path / "c.jsonl", "\n".join(rec(f"t{i}", "X" if i % 2 else "Y") for i in range(6)) + "\n")
    _write(tmp_path / "k=v.txt", "\n\n".join(f"p{i}" for i in range(3)))
    monkeypatch.chdir(tmp_path)
    c = read_domains([tmp_path / "a", f"bee={tmp_path / 'b.txt'}", tmp_path / "c.jsonl", "k=v.txt"])
    assert c.names == ("a", "bee", "Y", "X", "k=v")  # NAME=PATH renames; a path with "=" stays a path
    assert len(c["a"].docs) == 4 and len(c["bee"].docs) == 5 and len(c["X"].docs) == 3


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file or folder"),
    ("empty_folder", "no text"),
    ("corrupt_jsonl", "c.jsonl:2: not a JSON record"),
    ("jsonl_no_text", "c.jsonl:1: no string field 'text'"),
    ("jsonl_no_domain", "c.jsonl:1: no string field 'meta.redpajama_set_name'"),
    ("duplicate", "two domains have this name"),
    ("unreadable", "cannot read"),
])
def test_bad_domains_name_the_culprit(tmp_path, monkeypatch, case, message):
    (tmp_path / "d").mkdir()
    for i in range(3):
        _write(tmp_path / "d" / f"{i}.txt", "x" * 50)
    specs = {"missing": [tmp_path / "nope"],
             "empty_folder": [tmp_path / "e"],
             "duplicate": [tmp_path / "d", f"d={tmp_path / 'd' / '0.txt'}"],
             "unreadable": [tmp_path / "d"]}.get(case, [tmp_path / "c.jsonl"])
    if case == "empty_folder":
        (tmp_path / "e").mkdir()
    if case == "corrupt_jsonl":
        _write(tmp_path / "c.jsonl", '{"text": "a", "meta": {"redpajama_set_name": "x"}}\n{"text": "b"\n')
    if case == "jsonl_no_text":
        _write(tmp_path / "c.jsonl", '{"body": "a"}\n')
    if case == "jsonl_no_domain":
        _write(tmp_path / "c.jsonl", '{"text": "a", "meta": {}}\n')
    if case == "unreadable":
        import pathlib

        real = pathlib.Path.read_bytes

        def deny(self):
            if self.name == "1.txt":
                raise PermissionError(13, "Permission denied")
            return real(self)
        monkeypatch.setattr(pathlib.Path, "read_bytes", deny)
    with pytest.raises(BadInput, match=message) as e:
        read_domains(specs)
    assert "\n" not in str(e.value)
    if case == "unreadable":
        assert "1.txt" in str(e.value)


def test_too_small_domains_are_refused(toy_corpus):
    tiny = Corpus((Domain("t", (b"ab", b"cd", b"ef"), "toy"),))
    with pytest.raises(BadInput, match="fewer than one sequence"):
        tokenize(tiny, 16)
    with pytest.raises(BadInput, match="at least 3"):
        split_documents(Domain("two", (b"a" * 100, b"b" * 100), "toy"))
    with pytest.raises(BadInput, match="budget of domain 'letters' must be positive"):
        tokenize(toy_corpus, 16, train_tokens={"letters": 0})
    with pytest.raises(BadInput, match="unknown domain 'nope'"):
        tokenize(toy_corpus, 16, train_tokens={"nope": 10})


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "w.json"
    _write(tmp_path / "c.jsonl", '{"text": "a", "meta": {"redpajama_set_name": "x"}}\nnot json\n')
    for data in (str(tmp_path / "nope"), str(tmp_path / "c.jsonl")):
        assert main(["mix", "--data", data, "--method", "uniform", "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
        assert not out.exists()
    assert main(["mix", "--method", "uniform", "--out", str(out), "--checkpoint", str(tmp_path / "no" / "ck.npz")]) == 2
    assert "--checkpoint: folder" in capsys.readouterr().err
    assert main(["mix", "--method", "nope", "--out", str(out)]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [tmp_path / "c.jsonl"]


@pytest.mark.parametrize("extra, message", [
    (["--seq-len", "0"], "--seq-len: expected a positive integer"),
    (["--threads", "0"], "--threads: expected a positive integer"),
    (["--target-steps", "-1"], "--target-steps: expected a non-negative integer"),
    (["--checkpoint-every", "-1"], "--checkpoint-every: expected a positive integer"),
    (["--batch-size", "0"], "--batch-size: expected a positive integer"),
])
def test_mix_refuses_bad_numbers_before_any_work(tmp_path, capsys, extra, message):
    out = tmp_path / "w.json"
    assert main(["mix", "--method", "uniform", "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not out.exists()


def test_mix_refuses_a_folder_as_out_a_file_as_its_folder_and_a_single_domain(tmp_path, capsys):
    assert main(["mix", "--method", "uniform", "--out", str(tmp_path), "--quiet"]) == 2
    assert "is a folder" in capsys.readouterr().err
    (tmp_path / "f").write_text("x")
    assert main(["mix", "--method", "uniform", "--out", str(tmp_path / "f" / "w.json"), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    (tmp_path / "one").mkdir()
    for i in range(4):
        (tmp_path / "one" / f"{i}.txt").write_text(f"document {i} " * 60)
    out = tmp_path / "w.json"
    assert main(["mix", "--data", str(tmp_path / "one"), "--method", "uniform", "--out", str(out), "--quiet"]) == 2
    assert "at least two domains" in capsys.readouterr().err and not out.exists()


def test_mix_refuses_a_tampered_checkpoint(tmp_path, capsys):
    import numpy as np

    for name, alphabet in (("a", "abc \n"), ("b", "0123 ,\n")):
        (tmp_path / name).mkdir()
        for i in range(5):
            (tmp_path / name / f"{i}.txt").write_text("".join(np.random.default_rng(i).choice(list(alphabet), 300)))
    common = ["mix", "--data", str(tmp_path / "a"), str(tmp_path / "b"), "--method", "tandem", "--model", "micro",
              "--seq-len", "32", "--batch-size", "4", "--budget", "20", "--quiet", "--threads", "1"]
    ck = tmp_path / "ck.npz"
    ck.write_bytes(b"garbage, not an npz")
    out = tmp_path / "w.json"
    assert main([*common, "--out", str(out), "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "checkpoint" in err and err.count("\n") == 1 and not out.exists()
    ck.unlink()
    assert main([*common, "--out", str(out), "--checkpoint", str(ck), "--checkpoint-every", "1"]) == 0
    capsys.readouterr()
    with np.load(ck) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["alpha"] = np.array([np.nan, 0.5])
    np.savez(ck, **arrays)
    out.unlink()
    assert main([*common, "--out", str(out), "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "not on the simplex" in err and not out.exists()
    ck.write_bytes(b"PK\x03\x04 torn")  # a torn file beside its sidecar
    assert main([*common, "--out", str(out), "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "unreadable" in err and err.count("\n") == 1 and not out.exists()


def test_docstrings_walk_gives_ast_walks_bytes():
    """The docstrings domain walks statements only (bench.lm.corpus._statements_bfs); it must give
    exactly what ast.walk's breadth-first order gives, or every LM cell's data would change. Every
    eighth standard-library module, and a module with docstrings under if/try/with/match clauses."""
    import ast

    from bench.lm import corpus as C

    def by_ast_walk(src: bytes) -> bytes:
        tree = ast.parse(src)
        docs = [ast.get_docstring(n) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        return "\n\n".join(d for d in docs if d).encode("utf-8")

    tricky = b'''"""m"""
if x:
    def a():
        """a"""
        class B:
            """B"""
else:
    async def c():
        """c"""
try:
    def d():
        """d"""
except E:
    def e():
        """e"""
finally:
    with f:
        def g():
            """g"""
match v:
    case 1:
        def h():
            """h"""
def top():
    """top"""
    def inner():
        """inner"""
'''
    assert C._docstrings(tricky) == by_ast_walk(tricky) and b"inner" in C._docstrings(tricky)
    sources = C._stdlib_sources()[::8]
    assert len(sources) > 50
    for name, src in sources:
        try:
            want = by_ast_walk(src)
        except (SyntaxError, ValueError):
            want = b""
        assert C._docstrings(src) == want, name
