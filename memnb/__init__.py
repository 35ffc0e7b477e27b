"""memnb: memory-augmented transformers, re-implemented and re-measured.

The shared package behind the book: data generators, memory layers and ops, models,
training loop, evaluation, statistics and plotting. Chapters in ``notebooks/`` import it.
"""

__version__ = "0.1.0"
