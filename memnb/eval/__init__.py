"""Evaluation harnesses shared by chapters (long-context recall, algorithmic suites, sessions).

Each module is one harness; import from the module, e.g. ``memnb.eval.long_context``.
"""
