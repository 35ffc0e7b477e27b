"""Models: the one transformer block and MLP (``block``), GPT-2's init (``init``), the baseline
decoder (``decoder``) and the frozen GPT-2-style backbone (``backbone``)."""
