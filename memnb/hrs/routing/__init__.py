"""HRS topic-routed context assembly (book/appendix/hrs.md §5), rebuilt on the book's backbone.

- ``engram.py``: a text's engram, the mean hidden state of a frozen causal LM.
- ``topic_manager.py``: the seed's TopicContextManager (online clustering, auto-merge, active
  slots, context assembly), with the seed's insert-then-retrieve order and the corrected one.
- ``scaling.py``: topic accuracy of engram cosine vs text length (the "signal-to-noise scaling
  law"), the fixed threshold against learned classifiers, and online-clustering quality.
- ``contamination.py``: the MAUVE "distributional contamination" experiment with context
  conditions at a fixed token budget, continuation-only NLL and matched-n MAUVE.
"""
