"""HRS (MikeyBeez/HRS, "Hierarchical Routed Sinkformer"; book/appendix/hrs.md): engrams and how they
are injected into a decoder.

- ``memnb.hrs.engram``: the two objects HRS calls an engram — V16's per-window encoder of the
  *same* sequence (``WindowEngram``) and V18's corpus-level EMA buffer of identical slots
  (``EngramBuffer``).
- ``memnb.hrs.model``: ``EngramLM``, a small decoder with an engram injected by prepending it
  to the causal sequence (V16) or through gated cross-attention at alternating layers (V18),
  or not at all (V17); the engram's source (this sequence, EMA buffer, learned constant) is a
  separate switch, so the injection path and the source can be varied independently.
- ``memnb.hrs.probes``: the causality probe and the cross-attention diagnostics.
- ``memnb.hrs.sampling``: batched sampling with a full recompute per token (V16's procedure).
- ``memnb.hrs.experiment``: one arm × seed of chapter 30, trained and measured.
"""
