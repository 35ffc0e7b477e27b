"""Character and byte-level BPE tokenisers: exact round trips, caching, encoded splits."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memnb.data import load_corpus
from memnb.data.tokenizers import BPETokenizer, CharTokenizer, encode_corpus, get_tokenizer


@pytest.fixture(scope="module")
def bpe():
    return get_tokenizer("bpe")


def test_char_tokenizer_roundtrip_and_unknowns(tmp_path):
    tok = get_tokenizer("char")
    text = load_corpus()["test"][0]["text"]
    assert tok.decode(tok.encode(text)) == text
    assert tok.tokens[:3] == ["<pad>", "<unk>", "<eos>"] and tok.eos_id == 2
    assert all(d in tok.tokens for d in "0123456789")
    assert tok.encode("é") == [tok.unk_id] and tok.decode(tok.encode("aéb")) == "a<unk>b"
    tok.save(tmp_path)
    again = CharTokenizer.load(tmp_path)
    assert again.tokens == tok.tokens and again.fingerprint == tok.fingerprint


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="abcXYZ \n.,;'!?0123456789"))
def test_char_roundtrip_property(text):
    tok = get_tokenizer("char")
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) == len(text)


def test_char_tokenizer_is_deterministic():
    assert CharTokenizer.train(["hello", "world"]).tokens == CharTokenizer.train(["world", "hello"]).tokens


def test_bpe_is_a_transformers_fast_tokenizer(bpe, tmp_path):
    from transformers import PreTrainedTokenizerFast

    assert isinstance(bpe.hf, PreTrainedTokenizerFast)
    assert bpe.vocab_size == 4096 and bpe.name == "bpe4096"
    assert bpe.tokens[:2] == ["<|endoftext|>", "<pad>"] and (bpe.eos_id, bpe.pad_id) == (0, 1)
    bpe.save(tmp_path)
    assert BPETokenizer.load(tmp_path).fingerprint == bpe.fingerprint


def test_bpe_roundtrips_the_corpus_exactly(bpe):
    for doc in load_corpus()["validation"]["text"]:
        ids = bpe.encode(doc)
        assert bpe.decode(ids) == doc
        assert len(ids) < len(doc) / 2.5  # it compresses English


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_bpe_roundtrip_any_unicode(bpe, text):
    assert bpe.decode(bpe.encode(text)) == text


def test_bpe_training_is_deterministic():
    texts = ["the cat sat on the mat\n" * 20, "a dog and a cat, and the dog barked\n" * 10]
    a, b = (BPETokenizer.train(texts, vocab_size=300) for _ in range(2))
    assert a.fingerprint == b.fingerprint
    with pytest.raises(ValueError, match="vocab_size"):
        BPETokenizer.train(texts, vocab_size=100)


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_encode_corpus_joins_documents_with_eos(kind):
    tok = get_tokenizer(kind)
    ids = encode_corpus("test", tok)
    docs = load_corpus()["test"]["text"]
    assert ids.dtype.is_floating_point is False and ids.dim() == 1
    assert int((ids == tok.eos_id).sum()) == len(docs) and int(ids[-1]) == tok.eos_id
    pieces, start = [], 0
    for end in (ids == tok.eos_id).nonzero().flatten().tolist():
        pieces.append(tok.decode(ids[start:end].tolist()))
        start = end + 1
    assert pieces == list(docs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'char' or 'bpe'"):
        get_tokenizer("word")
    with pytest.raises(ValueError, match="split must be one of"):
        encode_corpus("dev", get_tokenizer("char"))
