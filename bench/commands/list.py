"""tandem-bench list [methods|schedules|problems|suites]"""

from __future__ import annotations

from tandem_ref.names import Registry

# Sections other packages add: "module:function" taking the section asked for ("all", "problems", ...)
# and printing its lines when it is theirs.
LISTERS = Registry("listing", {"problems": "bench.problems:print_listing",
                               "suites": "bench.commands.list:print_suites"})


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
    for name in LISTERS:
        LISTERS.load(name)(what)
    return 0


def print_suites(what: str) -> None:
    """The 'suites:' section: each suite file's profiles and description (or why it cannot be read)."""
    from bench.suites import load, suite_names
    from tandem_ref.errors import BadInput

    if what not in ("all", "suites"):
        return
    print("suites:")
    for name in suite_names():
        try:
            s = load(name)
            print(f"  {name:16s} [{', '.join(s.profiles)}] {s.description}")
        except BadInput as e:
            print(f"  {name:16s} (unreadable: {e})")


def register(sub) -> None:
    p = sub.add_parser("list", help="list methods, schedules, problems and suites")
    p.add_argument("what", nargs="?", default="all", choices=["all", "methods", "schedules", "problems", "suites"])
    p.set_defaults(func=run)
