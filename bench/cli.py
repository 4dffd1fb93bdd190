"""The ``tandem-bench`` command line (DESIGN.md "Command line").

Subcommands live one per module in ``bench/commands/``; each module defines
``register(subparsers)`` that adds its parser and sets ``func`` (args -> exit code).
Exit code 0 on success, 2 on bad input with a one-line message naming the field, file or line
(no traceback)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench.commands
from tandem_ref.errors import BadInput


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tandem-bench",
                description="TANDEM reference implementation and data-mixture benchmark")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for mod in sorted(m.name for m in pkgutil.iter_modules(bench.commands.__path__)):
        importlib.import_module(f"bench.commands.{mod}").register(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
