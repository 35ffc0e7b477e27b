"""The ReLSM ablation ladder (jpturcotte/ReLSM), rebuilt small, causal and parameter-matched.

One concept per module:

- ``vocab``: one vocabulary for the algorithmic tasks, the needle task and character-level text;
- ``thoughts``: the latent thought stream, as shipped (reads the whole sequence: leaks) and causal
  (one thought set per position, reading only the prefix);
- ``act``: adaptive halting, as shipped (no gradient reaches the halting head) and Graves-style;
- ``variants``: the eight arms of the ladder at matched parameter count;
- ``curriculum``: the split curriculum (algorithmic first, then language) and the training run;
- ``evaluate``: the one evaluation entry point (greedy exact match IID/OOD, needles, perplexity,
  cost) writing one row schema, with chance levels;
- ``audit``: the direct future-token leak probe, the halting-gradient probe, FLOPs per step;
- ``criteria``: the per-seed measures the success criteria read (chance-corrected accuracy, the mean
  over tasks, the halting effort gap); the rules themselves are data in ``rules``;
- ``ladder``: the experiment loop (every arm x seed: train, audit, evaluate).

Specification: book/appendix/relsm.md and ReLSM's README.
"""
