"""The evidence about the small LM, above the runner: the LM claims (one typed record each), the
statistics and verdicts that decide them from stored results, the LM report tables, and replicate
(rerunning a deciding suite's reported cells on another kernel path). The LM problem stack itself
(model, batches, trainer, problem, Stage Two) is bench.lm, below the runner; nothing there imports
this package."""
