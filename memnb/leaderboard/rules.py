"""The recall-suite chapter's claims (chapter 50): no rule registered yet.

The Zoology anchor claims of ``claims.yaml`` (``zoology.attention_solves``,
``zoology.recall_grows_with_state``, ``zoology.delta_rule_leads_fixed_state``) are judged in
chapter 50 once its rules are written here, as data, before the run (book/method.md §3
and §5). Until then they are NOT RUN in the ledger, and ``RULES`` is empty.
"""

from __future__ import annotations

from memnb.verdicts import Rule

RULES: dict[str, Rule] = {}
