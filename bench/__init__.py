"""bench: the harness (suites, runner, reports, the small-LM stack) and the command line."""
