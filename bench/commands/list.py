"""tandem-bench list [methods|schedules|problems|suites]"""

from __future__ import annotations

import importlib

# Packages that add listings: "module:function" taking the section name ("all", "problems", ...)
# and printing its lines.
LISTERS = ["bench.problems:print_listing", "bench.suites:print_listing"]


def run(args) -> int:
    from tandem_ref.registry import METHODS, method_class
    from tandem_ref.schedules import SCHEDULES

    what = args.what
    if what in ("all", "methods"):
        print("methods:")
        for name in METHODS:
            print(f"  {name:16s} {method_class(name).summary}")
    if what in ("all", "schedules"):
        print("schedules:")
        for key, cls in SCHEDULES.items():
            print(f"  {key:16s} {cls.summary}")
    for entry in LISTERS:
        module, fn = entry.split(":")
        getattr(importlib.import_module(module), fn)(what)
    return 0


def register(sub) -> None:
    p = sub.add_parser("list", help="list methods, schedules, problems and suites")
    p.add_argument("what", nargs="?", default="all", choices=["all", "methods", "schedules", "problems", "suites"])
    p.set_defaults(func=run)
