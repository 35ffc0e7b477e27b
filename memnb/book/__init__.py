"""The book tier: what turns notebooks into the published book.

- ``chapter``: a chapter's run (profile, seeds, parameters, metrics, verdicts) and its record;
- ``runner``: executes a chapter with papermill and publishes its results atomically;
- ``ledger`` and ``landing``: the claims ledger page and the landing page's figures;
- ``bench``: timings of the memory ops.

It sits on top of the core (``memnb.ops`` … ``memnb.eval``) and the projects (``memnb.drex``,
``memnb.hrs``, …); nothing below imports it.
"""
