"""bench: the harness (suites, runner, reports, the small-LM stack) and the command line."""

import theory  # noqa: F401  (registers the methods that need theory's exact solvers: "oracle")
