"""Memory recurrences as functions (layout and semantics follow flash-linear-attention: time-major
inputs such as q, k ``[B, T, H, K]`` and v ``[B, T, H, V]``, and a final state returned so that a
later call continues the sequence; each op's docstring gives its shapes). One folder per
recurrence, each with a ``naive`` per-token reference beside its fast forms and a dispatcher
that picks an impl:

- ``memnb.ops.gated_delta_rule.gated_delta_rule`` (naive, chunked, fla)
- ``memnb.ops.drex_memory.drex_memory`` (naive, vectorised, triton)
- ``memnb.ops.ssd.ssd``: Mamba-2's selective scan (naive, chunked)
- ``memnb.ops.compressive_memory.compressive_memory``: Infini-attention's memory (naive, chunked)
- ``memnb.ops.titans_memory.titans_memory``: Titans' test-time-gradient MLP memory (naive, chunked)

The subpackages are not re-exported here under their own names, which would shadow them.
"""
