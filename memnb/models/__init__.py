"""Models: the baseline decoder and the frozen GPT-2-style backbone."""
