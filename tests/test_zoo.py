"""The registry's own behaviour: names, the zoo chapter's set, state sizes. The contract every
registered memory keeps is checked in ``test_layer_contract.py``."""

import pytest
import torch

from memnb.layers import registry as zoo


def test_unknown_memory_names_the_registry():
    with pytest.raises(ValueError, match="the registry has: attention, sliding_window"):
        zoo.mixer("lstm")
    with pytest.raises(ValueError, match="retrieval_context"):
        zoo.build("lstm", 8, 2)


def test_zoo_chapter_checks_the_registry_less_the_two_leaderboard_layers():
    assert list(zoo.ZOO) == [n for n in zoo.MEMORIES if n not in ("prefix_memory", "retrieval_context")]
    assert len(zoo.ZOO) == 9 and all(e.in_zoo_chapter for e in zoo.ZOO.values())


def test_state_bytes_counts_nested_tensors():
    state = {"a": torch.zeros(2, 3), "b": [torch.zeros(4, dtype=torch.float64)], "n": 5}
    assert zoo.state_bytes(state) == 2 * 3 * 4 + 4 * 8
