"""The memory-architectures arms: causality, the write-then-read leak, parameter matching."""

import math

import pytest
import torch

from memnb.layers.attention import CausalSelfAttention
from memnb.layers.kv_memory import KVMemory
from memnb.memarch import ARMS, ArmConfig, WriteThenReadKVMemory, build_model, future_leak
from memnb.memarch.model import parameter_gap

CFG = ArmConfig(d_model=32, n_layers=2, n_heads=4, capacity=64, top_k=4, window=4)
VOCAB = 19


def tokens(seed: int, shape=(2, 20)) -> torch.Tensor:
    return torch.randint(0, VOCAB, shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arm", ["baseline", "nope", "window", "kv_memory"])
def test_editing_token_t_plus_1_leaves_logits_up_to_t_unchanged(arm: str) -> None:
    torch.manual_seed(0)
    model = build_model(arm, VOCAB, CFG)
    assert future_leak(model, tokens(1), VOCAB) < 1e-6


def test_write_then_read_leaks_the_future() -> None:
    torch.manual_seed(0)
    model = build_model("write_then_read", VOCAB, CFG)
    assert future_leak(model, tokens(1), VOCAB) > 1e-4


def _identity_memory(cls: type[KVMemory], d: int) -> KVMemory:
    layer = cls(d, capacity=16, top_k=1)
    with torch.no_grad():
        for proj in (layer.q_proj, layer.k_proj, layer.v_proj):
            proj.weight.copy_(torch.eye(d))
    return layer


def test_corrected_memory_reads_only_the_past_while_write_then_read_reads_itself() -> None:
    """Orthogonal inputs with q = k = x: the best match of every query is its own slot."""
    d = 8
    x = 10 * torch.eye(d)[None]  # [1, 8, 8]: token s is 10·e_s
    _, pos_fixed, w_fixed, _ = _identity_memory(KVMemory, d).lookup(x)
    _, pos_leak, _, _ = _identity_memory(WriteThenReadKVMemory, d).lookup(x)
    s = torch.arange(d)
    assert torch.equal(pos_leak[0, :, 0], s)  # the identity shortcut: everyone reads itself
    read = w_fixed[0, :, 0] > 0
    assert not read[0] and read[1:].all()  # the first token has no past
    assert (pos_fixed[0, 1:, 0] < s[1:]).all()


def test_write_then_read_copies_the_next_token_given_the_right_keys() -> None:
    """Keys that encode 'my predecessor is token s' let query s fetch slot s + 1: the future."""
    d = 8
    x = 10 * torch.eye(d)[None]
    layer = _identity_memory(WriteThenReadKVMemory, d)
    with torch.no_grad():
        layer.k_proj.weight.copy_(torch.roll(torch.eye(d), shifts=1, dims=0).T)  # k_t = x_{t-1} pattern
    _, pos, _, _ = layer.lookup(x)
    assert torch.equal(pos[0, :-1, 0], torch.arange(1, d))


def test_arms_have_matched_parameters() -> None:
    gap = parameter_gap(VOCAB, CFG)
    assert gap == 1 - CFG.d_model  # memory 4d² + d + 1 vs two MLPs widened by d: 2·(2d² + d)
    counts = {arm: build_model(arm, VOCAB, CFG).num_params() for arm in ARMS}
    assert counts["kv_memory"] == counts["write_then_read"]
    assert counts["baseline"] == counts["nope"] == counts["window"]  # RoPE and the window add no parameters
    assert abs(counts["kv_memory"] - counts["baseline"]) < CFG.d_model


def test_arms_attention_positions_and_reach() -> None:
    """baseline: RoPE, full; nope: no positions, full; window and memory arms: local, RoPE."""
    kinds = {}
    for arm in ARMS:
        attn = [m for m in build_model(arm, VOCAB, CFG).modules() if isinstance(m, CausalSelfAttention)]
        assert len(attn) == CFG.n_layers
        kinds[arm] = {(type(a).__name__, a.rope_base, getattr(a, "window", None)) for a in attn}
    assert kinds["baseline"] == {("CausalSelfAttention", 10000.0, None)}
    assert kinds["nope"] == {("CausalSelfAttention", None, None)}
    for arm in ("window", "kv_memory", "write_then_read"):
        assert kinds[arm] == {("SlidingWindowAttention", 10000.0, CFG.window)}


def test_beyond_the_window_only_the_memory_reaches_back() -> None:
    """Editing token 0 changes the last position's logits (T ≫ window) through the memory only."""
    torch.manual_seed(0)
    x = tokens(2, (1, 24))
    edited = x.clone()
    edited[0, 0] = (x[0, 0] + 1) % VOCAB
    change = {}
    for arm in ("window", "kv_memory", "nope"):
        model = build_model(arm, VOCAB, CFG).eval()
        with torch.no_grad():
            change[arm] = (model(x)[0][0, -1] - model(edited)[0][0, -1]).abs().max().item()
    assert change["window"] == 0.0  # 2 blocks of window 4 reach back 6 tokens, not 23
    assert change["kv_memory"] > 1e-6 and change["nope"] > 1e-6


def test_all_arms_start_from_the_same_attention_init_scale() -> None:
    torch.manual_seed(0)
    model = build_model("kv_memory", VOCAB, ArmConfig(d_model=256, n_heads=4))
    std = model.blocks[1].mixer.attn.out_proj.weight.std().item()
    assert math.isclose(std, 0.02 / 2, rel_tol=0.05)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ArmConfig(n_layers=2, memory_from=2), "memory_from"),
        (lambda: ArmConfig(capacity=4, top_k=5), "top_k"),
        (lambda: ArmConfig(window=0), "window"),
        (lambda: build_model("lstm", VOCAB, CFG), "unknown arm"),
    ],
)
def test_bad_settings_name_the_fix(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
