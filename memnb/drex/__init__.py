"""Drex Phase 11–12 experiments (chapters 10_ema_bootstrap and 11_gate_sweep).

- ``task``: the seed's key→value recall layout (vocab 64, 5 pairs, filler, query) and the
  corrected, solvable layout;
- ``theory``: α schedules, τ/L, and the closed-form write rate of the repeated filler token;
- ``probe``: the seed's small probe model (embedding + MLP encoder, delta-rule memory, head);
- ``experiment``: training/evaluation loops (end-to-end training and the frozen-memory linear
  probe) and the memory-norm trajectory;
- ``rules``: the claims of chapters 10–12 as rule data (judged by ``memnb.verdicts``).
"""
