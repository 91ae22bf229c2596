"""Evaluation harness behind ``citebot eval``: dev-set loaders, SQuAD/BEIR metrics and a runner
that asks every question through the real engine on a temporary index."""
