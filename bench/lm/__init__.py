"""The small language model on real text: corpus, tokens, model, trainer, Problem, settings (README.md)."""
