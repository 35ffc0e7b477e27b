"""Entropy-gated retrieval (HRS, "EGR"): an engram store written and read by predictive entropy.

``entropy`` (entropy in bits, the rolling read trigger), ``engram_store`` (keys from a frozen
LM, the entropy write gate, cosine search), ``needles`` (synthetic needle facts and queries),
``niah`` (the needle-in-a-haystack retrieval experiment), ``experiment`` (chapter 31's runs over
seeds). Import from the modules.
"""
