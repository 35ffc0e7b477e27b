"""memnb: memory-augmented transformers, re-implemented and re-measured.

The shared package behind the book: data generators, memory layers and ops, models,
training loop, evaluation, statistics and plotting. Chapters in ``notebooks/`` import it.
"""

import warnings

__version__ = "0.1.0"

# tqdm.auto (used inside `datasets`) warns in every notebook without ipywidgets; its text bar is fine.
warnings.filterwarnings("ignore", message="IProgress not found")
