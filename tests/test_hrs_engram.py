"""HRS engrams: the window engram reads only its own window; the EMA buffer follows its
closed form and keeps every slot identical."""

import pytest
import torch

from memnb.hrs.engram import EngramBuffer, WindowEngram


def test_window_engram_depends_only_on_its_window():
    torch.manual_seed(0)
    enc = WindowEngram(d_model=8, window=4, per_window=2)
    h = torch.randn(2, 14, 8)  # 3 complete windows, 2 trailing tokens dropped
    e = enc(h)
    assert e.shape == (2, 6, 8)
    h2 = h.clone()
    h2[:, 5] += 1.0  # inside window 1
    d = (enc(h2) - e).abs().amax(dim=(0, 2))
    assert torch.all(d[[0, 1, 4, 5]] == 0) and torch.all(d[[2, 3]] > 1e-4)
    h3 = h.clone()
    h3[:, 12:] += 1.0  # the incomplete trailing window is ignored
    assert torch.equal(enc(h3), e)
    assert enc(h[:, :3]) is None
    assert enc.window_ends(6).tolist() == [3, 3, 7, 7, 11, 11]


def test_buffer_ema_closed_form_and_identical_slots():
    buf = EngramBuffer(d_model=3, n_slots=5, update_interval=2, momentum=0.5)
    assert buf.read() is None
    hs = [torch.full((2, 4, 3), float(v)) for v in (1.0, 2.0, 4.0, 8.0, 16.0)]
    buf.record(hs[0])  # record 0: first update copies m = 1
    assert torch.allclose(buf.read(), torch.ones(1, 5, 3))
    buf.record(hs[1])
    buf.record(hs[2])  # record 2: m = mean(2, 4) = 3 -> 0.5·1 + 0.5·3 = 2
    assert torch.allclose(buf.read(), torch.full((1, 5, 3), 2.0))
    buf.record(hs[3])
    buf.record(hs[4])  # m = 12 -> 0.5·2 + 0.5·12 = 7
    out = buf.read()
    assert torch.allclose(out, torch.full((1, 5, 3), 7.0))
    assert torch.equal(out, out[:, :1].expand_as(out))  # every slot identical


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="window"):
        WindowEngram(8, 0, 2)
    with pytest.raises(ValueError, match="momentum"):
        EngramBuffer(8, momentum=1.0)
