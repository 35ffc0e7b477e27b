"""Count n-gram baseline (memnb.eval.ngram): a proper distribution, known answers, orders improve."""

import math

import numpy as np
import pytest

from memnb.eval.ngram import ngram_nll, ngram_token_nll


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_history_gives_a_distribution(n):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 5, 400)
    V = 7  # two ids never seen in training still get mass
    for hist in ([0, 1], [4, 4], [6, 5]):
        total = sum(math.exp(-ngram_token_nll(train, np.array([*hist, w]), n=n, vocab_size=V)[2]) for w in range(V))
        assert total == pytest.approx(1.0, abs=1e-9)


def test_known_answers():
    train = np.array([0, 1, 0, 1, 0, 1])
    # unigram: P(w) = (c(w) + N1+ * 1/V) / (N + N1+) with N = 6, N1+ = 2 types, V = 3
    p0 = (3 + 2 / 3) / (6 + 2)
    assert ngram_token_nll(train, np.array([0]), n=1, vocab_size=3)[0] == pytest.approx(-math.log(p0))
    # bigram after 0: always 1 in training, c(h) = 3, N1+(h .) = 1
    p1 = (3 + 1 * ((3 + 2 / 3) / 8)) / (3 + 1)
    assert ngram_token_nll(train, np.array([0, 1]), n=2, vocab_size=3)[1] == pytest.approx(-math.log(p1))
    # a history never seen falls back to the lower order
    assert ngram_token_nll(train, np.array([2, 1]), n=2, vocab_size=3)[1] == pytest.approx(
        ngram_token_nll(train, np.array([1]), n=1, vocab_size=3)[0]
    )


def test_higher_orders_fit_structured_text_better():
    text = np.array([i % 4 for i in range(2000)] + [(i * 3) % 5 for i in range(2000)])
    held = np.array([(i * 3) % 5 for i in range(200)])
    losses = [ngram_nll(text, held, n=n, vocab_size=5) for n in (1, 2, 3)]
    assert losses[0] > losses[1] > losses[2]


def test_bad_input_fails_fast():
    with pytest.raises(ValueError, match="vocab_size"):
        ngram_nll(np.array([0, 1, 9]), np.array([0]), n=2, vocab_size=5)
    with pytest.raises(ValueError, match="n must be"):
        ngram_nll(np.array([0, 1]), np.array([0]), n=0, vocab_size=5)
