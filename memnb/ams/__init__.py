"""AMS v4 (AgentMemorySystem PR #30): bundle memory read as a 12-slot prefix of a frozen LM.

``bundles`` (time / topic / context encoders), ``kakeya`` (the codec and registry), ``cross_bundle``
(query heads, per-bundle attention, LayerNorm × scale), ``model`` (write / read), ``prefix``
(injection, KV-cached greedy decoding, forced choice, content bias), ``trainer`` (Trainer4 and the
v4.7 objectives), ``geometry`` (the inert Riemannian modules, off the main path), ``reader`` (the
frozen reader backbone), ``experiments`` (the measurements), ``study`` (chapter 40's loops over
seeds), ``report`` (its tables and figures), ``presets`` (its parameters). The seed:
book/appendix/ams.md.
"""
