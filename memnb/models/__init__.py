"""Models: the one transformer block and MLP (``block``), GPT-2's init (``init``), the baseline
decoder (``decoder``), the frozen GPT-2-style backbone (``backbone``) and the frozen pretrained reader
SmolLM2-135M-Instruct (``pretrained``)."""
