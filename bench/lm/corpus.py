"""Text domains: the user's own (folders, plain text files, JSONL) and the embedded default.

A domain is a named list of documents (bytes). The embedded corpus is built from the running
Python installation only (no download), so it is the same for every machine with the same Python
version; its fingerprint (a hash of every byte and every name) goes into every cell key.

Documents, not bytes, are the unit of the train/validation/test split (bench.lm.tokens), so no
document is in two splits. Every way a domain can be unusable raises BadInput with one line
naming the domain, the file or the line, before anything is written.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import sysconfig
import zipfile
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tandem_ref.errors import BadInput


@dataclass(frozen=True)
class Domain:
    name: str
    docs: tuple[bytes, ...]
    source: str  # how the domain was built, one line (CORPUS.md)

    @property
    def nbytes(self) -> int:
        return sum(len(d) for d in self.docs)


@dataclass(frozen=True)
class Corpus:
    domains: tuple[Domain, ...]
    name: str = "user"

    def __post_init__(self):
        seen = set()
        for d in self.domains:
            if d.name in seen:
                raise BadInput(f"domain {d.name!r}: two domains have this name (rename one with NAME=PATH)")
            seen.add(d.name)
            if not d.docs or d.nbytes == 0:
                raise BadInput(f"domain {d.name!r}: no text ({d.source})")
        if not self.domains:
            raise BadInput("corpus: no domains given")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.domains)

    def __getitem__(self, name: str) -> Domain:
        for d in self.domains:
            if d.name == name:
                return d
        raise BadInput(f"domain {name!r}: not in the corpus (domains: {', '.join(self.names)})")

    def select(self, names) -> "Corpus":
        return Corpus(tuple(self[n] for n in names), self.name)

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for d in self.domains:
            h.update(d.name.encode() + b"\0" + str(len(d.docs)).encode() + b"\0")
            for doc in d.docs:
                h.update(hashlib.sha256(doc).digest())
        return h.hexdigest()[:16]


# --- the user's domains ------------------------------------------------------------------------

def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None


def _paragraphs(text: bytes) -> list[bytes]:
    """A plain text file's documents: its blank-line separated paragraphs (so it can be split)."""
    return [p for p in re.split(rb"\n[ \t\r]*\n", text) if p.strip()]


def _field(record, dotted: str):
    for part in dotted.split("."):
        if not isinstance(record, dict) or part not in record:
            return None
        record = record[part]
    return record


def read_jsonl(path: Path, text_field: str = "text", domain_field: str | None = "meta.redpajama_set_name",
               ) -> dict[str, list[bytes]]:
    """SlimPajama-style records, one JSON object a line: domain -> documents (in file order).

    With ``domain_field=None`` the whole file is one domain named after the file."""
    out: dict[str, list[bytes]] = {}
    data = _read(path)
    for lineno, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadInput(f"{path}:{lineno}: not a JSON record ({getattr(e, 'msg', e)})") from None
        text = _field(rec, text_field)
        if not isinstance(text, str):
            raise BadInput(f"{path}:{lineno}: no string field {text_field!r}")
        if domain_field is None:
            dom = path.stem
        else:
            dom = _field(rec, domain_field)
            if not isinstance(dom, str) or not dom:
                raise BadInput(f"{path}:{lineno}: no string field {domain_field!r} (the domain field)")
        out.setdefault(dom, []).append(text.encode("utf-8"))
    if not out:
        raise BadInput(f"{path}: no records")
    return out


def read_domains(specs, text_field: str = "text", domain_field: str | None = "meta.redpajama_set_name") -> Corpus:
    """Domains from ``[NAME=]PATH`` specs: a folder (each file a document, recursively, hidden
    files skipped), a plain text file (its paragraphs are the documents), or a ``.jsonl`` file
    (one domain per value of ``domain_field``; NAME, if given, prefixes those names)."""
    domains: list[Domain] = []
    for spec in specs:
        name, sep, raw = str(spec).partition("=")
        if not sep or not name or "/" in name or Path(str(spec)).exists():  # a path with "=" in it stays a path
            name, raw = None, str(spec)
        path = Path(raw)
        if not path.exists():
            raise BadInput(f"{path}: no such file or folder")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and not any(s.startswith(".") for s in p.relative_to(path).parts))
            docs = tuple(doc for doc in (_read(p) for p in files) if doc.strip())
            domains.append(Domain(name or path.resolve().name, docs, f"folder {path} ({len(files)} files)"))
        elif path.suffix == ".jsonl":
            for dom, docs in read_jsonl(path, text_field, domain_field).items():
                label = f"{name}/{dom}" if name else dom
                domains.append(Domain(label, tuple(d for d in docs if d.strip()), f"{path}, {domain_field} = {dom}"))
        else:
            docs = tuple(_paragraphs(_read(path)))
            domains.append(Domain(name or path.stem, docs, f"text file {path} (paragraphs)"))
    return Corpus(tuple(domains))


# --- the embedded corpus: the Python installation itself --------------------------------------

_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__", "lib2to3", "turtledemo"}
# text-like test data: e-mail messages, XML, TOML, JSON, HTML, PEM certificates, mime tables
_TEST_DATA_SUFFIXES = {".txt", ".xml", ".toml", ".json", ".html", ".pem", ".types", ".cfg", ".ini", ".csv"}
# the headings that start a licence in the installation's LICENSE.txt
_LICENCE_HEADING = re.compile(rb"^[A-Z][A-Z0-9 .,'-]*\b(?:LICENSE|AGREEMENT)\b[A-Z0-9 .,'-]*$", re.M)


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _stdlib_sources() -> list[tuple[str, bytes]]:
    root = stdlib_dir()
    out = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if _SKIP_DIRS.isdisjoint(rel.parts):
            out.append((rel.as_posix(), p.read_bytes()))
    return out


def _docstrings(src: bytes) -> bytes:
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return b""
    parts = []
    for node in _statements_bfs(tree):
        if isinstance(node, _DOCUMENTED):
            doc = ast.get_docstring(node)
            if doc:
                parts.append(doc)
    return "\n\n".join(parts).encode("utf-8")


_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# the nodes a docstring-bearing node can sit under: statements and the clauses that hold statements
_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _statements_bfs(tree):
    """``ast.walk`` (breadth first) restricted to statements and the clauses holding them, in the same
    order: a documented node's ancestors are all of these kinds, so it sits at the same depth and its
    siblings keep their order. Skipping the expression nodes (nine in ten) builds the embedded corpus's
    docstrings domain in 2.2 s instead of 2.8 (parsing is the rest), with the same bytes
    (tests/lm/test_corpus.py)."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        todo.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, _HOLDS_STATEMENTS))
        yield node


def _comments(src: bytes) -> bytes:
    lines = [ln.strip() for ln in src.splitlines() if ln.lstrip().startswith(b"#") and not ln.startswith(b"#!")]
    return b"\n".join(lines)


def licence_documents() -> list[tuple[str, bytes]]:
    """(title, text) of every licence in the installation: the sections of LICENSE.txt that
    start at a licence heading, and the licences inside the bundled ensurepip wheels."""
    out = []
    text = (stdlib_dir() / "LICENSE.txt").read_bytes()
    starts = [m.start() for m in _LICENCE_HEADING.finditer(text)]
    pending = b""
    for a, b in zip(starts, starts[1:] + [len(text)]):
        section = pending + text[a:b]
        if len(section.strip()) < 200:  # a heading over a heading: one licence with two titles
            pending = section
            continue
        pending = b""
        out.append((section.strip().splitlines()[0].decode().strip(), section.strip()))
    for whl in sorted((stdlib_dir() / "ensurepip" / "_bundled").glob("*.whl")):
        with zipfile.ZipFile(whl) as z:
            for n in sorted(z.namelist()):
                if re.search(r"(LICEN[CS]E|COPYING)[^/]*$", n, re.I):
                    out.append((f"{whl.name.split('-')[0]} licence", z.read(n).strip()))
    return out


def _copyright_blocks(sources) -> list[bytes]:
    """Leading comment blocks of stdlib modules that state a copyright or a licence."""
    out = []
    for _, src in sources:
        block = []
        for ln in src.splitlines():
            if ln.startswith(b"#"):
                block.append(ln)
            elif block or ln.strip():
                break
        text = b"\n".join(block)
        if re.search(rb"copyright|licen[cs]e|permission", text, re.I) and len(text) > 200:
            out.append(text)
    return out


def _test_data() -> list[bytes]:
    root = stdlib_dir() / "test"
    if not root.is_dir():
        return []
    return [p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in _TEST_DATA_SUFFIXES]


@lru_cache(maxsize=1)
def embedded_corpus() -> Corpus:
    """Seven domains from the running Python's installation; see bench/lm/CORPUS.md."""
    import pydoc_data.topics

    sources = _stdlib_sources()
    include = Path(sysconfig.get_paths()["include"])
    headers = sorted(include.rglob("*.h")) if include.is_dir() else []
    idle = sorted((stdlib_dir() / "idlelib").glob("*.txt"))
    topics = pydoc_data.topics.topics
    domains = [
        Domain("code", tuple(src for _, src in sources),
               "standard-library modules (*.py outside test, idle_test, lib2to3, site-packages), one file a document"),
        Domain("docstrings", tuple(d for d in (_docstrings(s) for _, s in sources) if d),
               "module, class and function docstrings (ast.get_docstring) of those modules, one module a document"),
        Domain("comments", tuple(c for c in (_comments(s) for _, s in sources) if len(c) > 64),
               "the # comment lines of those modules, one module a document"),
        Domain("reference", tuple(topics[k].encode("utf-8") for k in sorted(topics)),
               "pydoc_data.topics: the language reference and library topic texts of `help()`, one topic a document"),
        Domain("c_headers", tuple(p.read_bytes() for p in headers),
               "the C API headers (sysconfig include dir, *.h recursively), one header a document"),
        Domain("licences", tuple([t for _, t in licence_documents()] + _copyright_blocks(sources)),
               "LICENSE.txt cut at its licence headings, the licences of the bundled pip and setuptools wheels, "
               "and the copyright/licence header comments of stdlib modules"),
        Domain("prose_data", tuple(_test_data() + [p.read_bytes() for p in idle]),
               "text data of the test suite (e-mail messages, XML, TOML, JSON, HTML, PEM, mime tables) and "
               "IDLE's NEWS/HISTORY/README texts, one file a document"),
    ]
    return Corpus(tuple(d for d in domains if d.docs), name=f"python-{sys.version_info[0]}.{sys.version_info[1]}")
