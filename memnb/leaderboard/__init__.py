"""Chapter 50: every memory on multi-query associative recall (MQAR), beside Zoology's curves.

``mqar`` (one training run: data, loss, curve, generalisation, state, FLOPs), ``sweep`` (the arms
and the parallel runner), ``presets`` (per profile), ``rules`` (the zoology.* claims' rules),
``published`` (Zoology's figures, the external anchor), ``mqar_pilot`` (the pilot's command line).
"""
