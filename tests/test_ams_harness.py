"""Chapter 40's harness on the real frozen reader (memnb.ams.harness, trainer's QA objective):
batched prefix decoding equals batch-1 decoding and a full recompute, the forced choice reads the
first step's logits, every mode builds the input it says, the QA loss is the chain rule's, and the
E1 arms differ only in the prefix scale."""

import pytest
import torch

from memnb.ams import experiments as X
from memnb.ams import harness as H
from memnb.ams import study
from memnb.ams.presets import AmsV4
from memnb.ams.trainer import TrainSpec, qa_examples, qa_nll, train
from memnb.data.tasks.pseudo_facts import make_fact_sessions
from memnb.eval.reader import fact_prompt
from memnb.models.pretrained import load_reader


@pytest.fixture(scope="module")
def reader():
    return load_reader()


@pytest.fixture(scope="module")
def model(reader):
    return study.build(reader, H.ReaderTok(reader.tokenizer), 0)


def test_batched_prefix_decoding_equals_batch_one_and_recompute(reader, model, one_thread):
    sess = make_fact_sessions(3, seed=7)
    items = [H.mode_item(reader, "A:m", s, {"m": model}) for s in sess]
    items[1] = H.Item(items[1].prompt, items[1].prefix * 24)  # a loud prefix: a different reply
    replies, logits = H.decode(reader, items, new=3, batch=3)
    for it, r, lg in zip(items, replies, logits, strict=True):
        r1, l1 = H.decode(reader, [it], new=3)
        assert r1[0] == r and torch.allclose(l1[0], lg, atol=1e-3)
    # the first step's logits are one forward pass over [prefix; prompt]
    ids = torch.tensor(reader.tokenizer(items[0].prompt, add_special_tokens=False).input_ids)
    x = torch.cat([items[0].prefix, reader.model.get_input_embeddings()(ids)])[None]
    with torch.no_grad():
        ref = reader.model(inputs_embeds=x).logits[0, -1]
    assert torch.allclose(ref, logits[0], atol=1e-3)
    ref_ids = [int(ref.argmax())]
    assert reader.tokenizer.decode(ref_ids) == replies[0][: len(reader.tokenizer.decode(ref_ids))]


def test_modes_build_what_they_say(reader, model):
    s, other = make_fact_sessions(2, seed=11)
    m = {"m": model}
    floor, oracle, d, bm = (H.mode_item(reader, k, s, m) for k in H.TEXT_MODES)
    assert floor.prompt == fact_prompt(reader, (), s.question, s.stem) and floor.prefix is None
    assert s.gold_fact in oracle.prompt and all(f in d.prompt for f in s.facts)
    assert sum(f in bm.prompt for f in s.facts) == 1
    a, gold, swap = (H.mode_item(reader, k, s, m, swap=other) for k in ("A:m", "Agold:m", "Aswap:m"))
    assert a.prompt == floor.prompt and a.prefix.shape == (12, 576)
    store = model.write(list(s.facts))
    want, _ = model.prefix(store, H.query_text(s), [H.gold_index(s)])
    assert torch.equal(gold.prefix, want) and not torch.equal(gold.prefix, a.prefix)
    assert not torch.equal(swap.prefix, a.prefix)
    c = H.mode_item(reader, "C:m", s, m)
    assert torch.equal(c.prefix, a.prefix) and sum(f in c.prompt for f in s.facts) == 1
    with pytest.raises(ValueError, match="names no model"):
        H.mode_item(reader, "A:nope", s, m)


def test_scores_and_forced_choice(reader):
    s = make_fact_sessions(1, seed=2)[0]
    ids = [reader.tokenizer(" " + v, add_special_tokens=False).input_ids[0] for v in s.candidates]
    logits = torch.zeros(reader.model.config.vocab_size)
    logits[ids[s.candidates.index(s.answer)]] = 5.0
    assert H.score(reader, f" {s.answer}. And more", logits, s) == {"strict": 1.0, "forced": 1.0, "substring": 1.0}
    logits[ids[(s.candidates.index(s.answer) + 1) % 8]] = 9.0
    assert H.score(reader, f" the {s.answer}", logits, s) == {"strict": 0.0, "forced": 0.0, "substring": 1.0}


def test_qa_loss_is_the_targets_cross_entropy(reader, model, one_thread):
    sess = make_fact_sessions(2, seed=3)
    ex = qa_examples(reader, sess)
    with torch.no_grad():
        loss, stores = qa_nll(model, ex)
        emb = reader.model.get_input_embeddings()
        want = []
        for (_facts, qt, pids, tids), st in zip(ex, stores, strict=True):
            prefix, _ = model.cross(model.pooled(qt), st.fiber)
            x = torch.cat([prefix, emb(torch.tensor(pids + tids))])[None]
            logp = reader.model(inputs_embeds=x).logits[0].log_softmax(-1)
            n0 = 12 + len(pids)
            want.append(-sum(float(logp[n0 - 1 + j, t]) for j, t in enumerate(tids)) / len(tids))
    assert abs(float(loss) - sum(want) / 2) < 1e-3
    m2 = study.build(reader, H.ReaderTok(reader.tokenizer), 1)
    log = train(m2, TrainSpec(objective="qa", steps=1, batch=2), seed=1, data=ex)
    assert len(log) == 1 and log[0]["obj"] > 0
    with pytest.raises(ValueError, match="needs its training examples"):
        train(m2, TrainSpec(objective="qa", steps=1), seed=1)


def test_e1_arms_differ_only_in_scale(reader, model, one_thread):
    sess = make_fact_sessions(1, seed=4)
    rows = X.prefix_norms(reader, model, sess, new=2)
    by = {r["arm"]: r for r in rows}
    scale = float(model.cross.scale.detach())
    assert abs(by["learnable"]["norm_ratio"] - scale * by["ln"]["norm_ratio"]) < 1e-4
    assert abs(by["ln"]["inv_sqrt_d_ratio"] - by["ln"]["norm_ratio"] / 24) < 1e-4 and by["none"]["norm_ratio"] == 0


def test_session_sets_are_disjoint_and_fixed_by_seed():
    p = AmsV4.resolve("ci")
    a, b = study.session_sets(40, p), study.session_sets(41, p)
    assert a == study.session_sets(40, p) and a["eval"] != b["eval"]
    facts = [set(f for s in v for f in s.facts) for v in a.values()]
    assert all(not (x & y) for i, x in enumerate(facts) for y in facts[i + 1 :])
