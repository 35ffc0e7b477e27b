import pytest
import torch

from memnb.layers.retrieval_context import RetrievalContext

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def layer():
    torch.manual_seed(0)
    return RetrievalContext(32, 4, segment_len=8, chunk_len=4, top_k=2).double()


def test_matches_explicit_attention_over_selected_chunks(layer):
    """Closed form for the first token of segment 2 (no local past but itself): softmax over the
    top-2 chunks of segment 1 by q·(mean key), plus its own key."""
    x = torch.randn(1, 9, 32, dtype=torch.float64)
    y = layer(x)[0][0, 8]
    q, k, v = layer.qkv(x).chunk(3, -1)
    H, D = 4, 8
    q, k, v = (t[0].view(9, H, D).transpose(0, 1) for t in (q, k, v))  # [H, T, D]
    out = []
    for h in range(H):
        marks = torch.stack([k[h, 0:4].mean(0), k[h, 4:8].mean(0)])
        order = (q[h, 8] @ marks.T).topk(2).indices
        keys = torch.cat([k[h, 4 * j : 4 * j + 4] for j in order.tolist()] + [k[h, 8:9]])
        vals = torch.cat([v[h, 4 * j : 4 * j + 4] for j in order.tolist()] + [v[h, 8:9]])
        out.append(((keys @ q[h, 8]) / D**0.5).softmax(0) @ vals)  # RoPE at position 0 is the identity
    expected = layer.out_proj(torch.cat(out))
    assert torch.allclose(y, expected, atol=1e-10)


def test_only_the_selected_chunk_reaches_the_output():
    """With top_k=1, a small edit of the chunk not selected changes nothing at the next
    segment's first token; the same edit of the selected chunk does."""
    torch.manual_seed(1)
    layer = RetrievalContext(16, 1, segment_len=8, chunk_len=4, top_k=1).double()
    x = torch.randn(1, 9, 16, dtype=torch.float64)
    q = layer.qkv(x[:, 8:9]).chunk(3, -1)[0][0, 0]

    def picked(inputs):
        return int((q @ layer(inputs[:, :8])[1].mem_k[0, 0].mean(1).T).argmax())

    pick = picked(x)
    y = layer(x)[0][:, 8]
    for chunk, moves in ((1 - pick, False), (pick, True)):
        edited = x.clone()
        edited[:, 4 * chunk : 4 * chunk + 4] *= 1.0001  # small: the selection does not flip
        assert picked(edited) == pick
        change = (layer(edited)[0][:, 8] - y).abs().max().item()
        assert (change > 1e-8) if moves else (change == 0.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="chunk_len"):
        RetrievalContext(32, 4, segment_len=8, chunk_len=3)
