"""AMS v4 (AgentMemorySystem PR #30): bundle memory read as a 12-slot prefix of a frozen LM.

``bundles`` (time / topic / context encoders), ``kakeya`` (the codec and registry), ``cross_bundle``
(query heads, per-bundle attention, LayerNorm × scale), ``model`` (write / read), ``harness`` (the
modes on fact sessions read through the frozen pretrained reader, batched KV-cached decoding,
strict and forced-choice scores), ``prefix`` (the content-bias decoder's pieces), ``trainer``
(Trainer4 and the QA objective), ``geometry`` (the inert Riemannian modules, off the main path),
``sessions`` (the seed's verbatim session, scorers, retrieval baselines), ``experiments`` (E1, E2,
E5, E7), ``study`` (chapter 40's loops over seeds), ``presets`` (its parameters). The reader is
``memnb.models.pretrained``. The seed: book/appendix/ams.md.
"""
