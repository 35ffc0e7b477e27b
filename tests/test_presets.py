"""Chapter presets: each resolves, per profile, to the values the notebooks ran with before the
presets existed (the table below was read from the notebooks' ``defaults={...}``), and a bad
override is a one-line error naming the parameter, raised before anything runs."""

from dataclasses import dataclass

import pytest

from memnb.book import runner
from memnb.book.presets import PRESETS, preset_class
from memnb.hrs.routing.contamination import CONDITIONS
from memnb.leaderboard.presets import CPU_ARMS, GPU_ARMS
from memnb.profiles import Preset, per_profile

# chapter -> parameter -> (ci, cpu, gpu), as each notebook's Chapter(defaults=...) had them.
TODAY = {
    "00_data": {
        "n_examples": (64, 512, 2048),
        "reader_nll_tokens": (64, 8192, 32768),
        "copy_sessions": (4, 40, 200),
    },
    "01_baseline": {
        "steps": (20, 400, 5000),
        "d_model": (32, 128, 384),
        "n_layers": (2, 4, 6),
        "seq_len": (64, 128, 256),
        "batch_size": (8, 16, 64),
        "bpe_vocab": (1024, 4096, 4096),
        "eval_chars": (4000, 100000, 400000),
    },
    "02_memory_zoo": {
        "d_model": (32, 64, 128),
        "seq_len": (48, 256, 1024),
        "bench_lengths": ([128, 256], [512, 2048, 8192], [512, 2048, 8192, 32768]),
    },
    "10_ema_bootstrap": {
        "lengths": ([16, 32], [16, 24, 32, 48, 64, 96, 128], [16, 24, 32, 48, 64, 96, 128]),
        "seed_lengths": ([32], [32, 96], [32, 96]),
        "probe_d": (16, 16, 16),
        "n_train": (256, 1024, 4096),
        "n_eval": (128, 512, 2048),
        "train_lengths": ([16, 32, 64, 96], [16, 32, 64, 96], [16, 24, 32, 48, 64, 96, 128]),
        "train_steps": (5, 800, 800),
        "train_lr": (0.0003, 0.0003, 0.0003),
        "train_eval": (64, 1920, 1920),
        "workers": (1, 2, 1),
    },
    "11_gate_sweep": {
        "thresholds": ([0.5, 0.7, 0.9], [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9], [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9]),
        "lengths": ([32], [32, 96], [32, 96]),
        "sweep_thresholds": ([0.5, 0.55, 0.6, 0.65, 0.7, 0.75],) * 3,
        "sweep_length": (32, 64, 64),
        "train_steps": (5, 800, 800),
        "train_lr": (0.0003, 0.0003, 0.0003),
        "train_eval": (64, 1920, 1920),
        "audit_seeds": (1, 3, 5),
        "lm_d_model": (32, 64, 128),
        "lm_layers": (2, 2, 4),
        "lm_segment_len": (32, 128, 64),
        "lm_n_segments": (2, 2, 2),
        "lm_batch_size": (4, 16, 16),
        "lm_steps": (6, 200, 500),
        "lm_val_tokens": (2048, 65536, 262144),
        "workers": (1, 2, 1),
    },
    "12_drex_model": {
        "d_model": (32, 64, 256),
        "n_layers": (2, 2, 4),
        "segment_len": (128, 128, 512),
        "batch_size": (2, 16, 16),
        "n_segments": (2, 2, 4),
        "steps": (4, 400, 5000),
        "val_tokens": (2048, 65536, 262144),
        "ep_seeds": (1, 5, 5),
        "mix_steps": (4, 1500, 5000),
        "mix_segments": ([1, 2], [1, 8], [1, 8]),
        "passkey_frac": (1.0, 1.0, 0.5),
        "answer_weight": (200.0, 200.0, 200.0),
        "beyond_lengths": ([256], [256, 512, 1024], [1024, 2048, 4096]),
        "beyond_depth": ([0.0, 0.5], [0.0, 0.5], [0.0, 0.5]),
        "n_eval": (2, 32, 100),
        "workers": (1, 2, 1),
    },  # issue 17: recall arms on the passkey mixture, the placement on plain text
    "20_relsm_ladder": {
        "d_model": (16, 64, 256),
        "n_layers": (3, 3, 6),
        "n_heads": (2, 4, 8),
        "n_thoughts": (4, 4, 16),
        "latent_k": (2, 2, 4),
        "act_max_k": (4, 4, 8),
        "batch_size": (8, 32, 64),
        "alg_steps": (8, 600, 8000),
        "lr": (0.003, 0.003, 0.0006),
        "schedule": ("constant", "constant", "constant"),
        "weight_decay": (0.0, 0.0, 0.0),
        "short_conv": (2, 2, 2),
        "eval_n": (4, 48, 500),
    },
    "21_kv_memory": {
        "tasks": (
            ["mem_brackets", "mem_copy"],
            ["mem_brackets", "mem_copy"],
            ["mem_brackets", "mem_copy", "mem_repeat"],
        ),
        "steps": (15, 1000, 3000),
        "control_steps": (15, 400, 1000),
        "batch_size": (8, 16, 64),
        "d_model": (32, 64, 128),
        "train_lengths": ([8, 16], [16, 32], [16, 64]),
        "test_lengths": ([16, 32], [16, 32, 64, 128], [32, 64, 128, 256, 512]),
        "n_eval": (16, 128, 512),
        "capacity": (128, 256, 1024),
        "top_k": (4, 4, 4),
        "window": (4, 8, 8),
        "workers": (1, 2, 1),
    },  # issue 17: copy trained 1000 steps, a local window for the memory arm; margins live in memnb.memarch.rules
    "30_engram_leakage": {  # issue 19: trained past the count trigram, no generations (MAUVE dropped)
        "d_model": (32, 64, 256),
        "n_layers": (4, 4, 6),
        "seq_len": (32, 64, 256),
        "window": (8, 16, 64),
        "batch_size": (4, 32, 64),
        "steps": (8, 1500, 6000),
        "property_steps": (4, 100, 300),
        "schedule": ("constant", "constant", "constant"),
        "weight_decay": (0.0, 0.0, 0.0),
        "update_interval": (2, 10, 100),
        "momentum": (0.5, 0.9, 0.99),
        "n_eval": (4, 64, 256),
        "n_samples": (0, 0, 0),
        "prompt_len": (8, 24, 64),
        "gen_len": (16, 40, 128),
        "workers": (1, 2, 1),
    },
    "31_entropy_gated_retrieval": {
        "n_needles": (4, 50, 100),
        "distractors": ([20], [20, 200, 1000], [20, 200, 2000]),
        "pool_size": (20, 1000, 2000),
        "gate_percentile": (50, 50, 50),
        "gen_prompts": (1, 8, 50),
        "gen_tokens": (4, 30, 30),
    },
    "32_topic_routing": {  # issue 19: on the pretrained reader, one read per chunk, three conditions at cpu
        "lengths": ([8, 32], [8, 16, 32, 64, 128, 256, 512], [8, 16, 32, 64, 128, 256, 512, 1024]),
        "sentence_len": (8, 32, 32),
        "article_len": (32, 512, 512),
        "item_tokens": (32, 128, 128),
        "n_chunks": (8, 20, 24),
        "stride": (64, 768, 1152),
        "n_pairs": (20, 250, 250),
        "context_tokens": (16, 64, 128),
        "prompt_tokens": (8, 32, 64),
        "continuation_tokens": (8, 32, 64),
        "n_prompts": (6, 64, 500),
        "conditions": (["none", "routed"], ["none", "routed", "same_play"], list(CONDITIONS)),
        "kmeans_seeds": (1, 3, 5),
        "n_boot": (2, 100, 200),
    },
    "33_exp_kernel_attention": {  # issue 19: arms per profile, token shift; 800 steps at cpu (900 steps ran 927 s)
        "arms": (["dot", "exp"], ["dot", "exp"], ["dot", "exp", "dot_soft"]),
        "steps": (20, 800, 5000),
        "d_model": (32, 128, 384),
        "n_layers": (2, 4, 6),
        "n_heads": (2, 4, 6),
        "short_conv": (2, 2, 2),
        "seq_len": (64, 256, 256),
        "batch_size": (4, 8, 64),
        "chunk_chars": (256, 256, 256),
        "chunks_per_play": (8, 50, 50),
        "lines_per_play": (8, 100, 200),
        "n_pairs": (200, 2000, 5000),
        "min_gap": (2, 2, 2),
        "val_chars": (4096, 32768, 131072),
        "workers": (1, 2, 1),
    },
    "40_ams_v4": {  # rebuilt on the pretrained reader (issue 18)
        "n_train": (2, 8, 64),
        "train_steps": (1, 48, 400),
        "train_batch": (2, 8, 16),
        "n_eval": (3, 32, 200),
        "new": (3, 4, 4),
        "e1_prompts": (2, 100, 100),
        "e1_new": (4, 30, 30),
        "pilot_queries": (2, 20, 20),
        "e2_sessions": (2, 24, 100),
        "e2_steps": (2, 60, 60),
        "e5_n": ([10, 20], [10, 20, 100], [10, 20, 100, 1000]),
        "e7_sessions": (2, 16, 100),
        "e7_betas": ([0.0, 8.0], [0.0, 2.0, 4.0, 8.0], [0.0, 2.0, 4.0, 8.0]),
        "e7_new": (4, 16, 30),
    },
    "50_leaderboard": {  # rebuilt on MQAR (issue 16): no longer the notebook's old defaults
        "arms": (CPU_ARMS, CPU_ARMS, GPU_ARMS),
        "d_model": (16, 64, 64),
        "widths": ([], [], [128, 256]),
        "n_layers": (2, 2, 2),
        "seq_len": (32, 64, 64),
        "n_pairs": (2, 4, 4),
        "vocab_size": (160, 320, 8192),
        "steps": (16, 480, 8000),
        "batch_size": (8, 32, 256),
        "lr": (0.01, 0.01, 0.001),
        "eval_n": (16, 256, 1024),
        "workers": (1, 2, 1),
    },
}


def test_every_chapter_has_a_preset() -> None:
    assert sorted(PRESETS) == runner.chapters() == sorted(TODAY)


@pytest.mark.parametrize("chapter", sorted(TODAY))
@pytest.mark.parametrize("i, profile", enumerate(("ci", "cpu", "gpu")))
def test_preset_resolves_to_todays_values(chapter: str, i: int, profile: str) -> None:
    params = preset_class(chapter).resolve(profile).as_dict()
    expected = {k: v[i] for k, v in TODAY[chapter].items()}
    assert params == expected
    assert list(params) == list(expected)  # the record keeps its order
    for k, v in params.items():  # and its types (3e-4 stays a float, lengths stay lists)
        assert type(v) is type(expected[k]), (chapter, k)


@dataclass(frozen=True)
class Toy(Preset):
    steps: int = per_profile(ci=2, cpu=100, low=1)
    lr: float = per_profile(ci=1e-3, cpu=3e-4, gpu=1e-4, low=0.0)
    lengths: list[int] = per_profile(ci=[8], cpu=[8, 16])
    tasks: list[str] = per_profile(ci=["a"], cpu=["a", "b"], choices=("a", "b"))


def test_gpu_falls_back_to_cpu_and_overrides_replace_defaults() -> None:
    assert Toy.resolve("gpu").steps == 100 and Toy.resolve("gpu").lr == 1e-4
    t = Toy.resolve("ci", {"steps": 7, "lengths": None})
    assert t.steps == 7 and t.lengths == [8]  # None: the profile's default


def test_strings_are_parsed_as_literals() -> None:
    t = Toy.resolve("cpu", {"steps": "50", "lr": "1e-2", "lengths": "[1, 2]", "tasks": '["b"]'})
    assert (t.steps, t.lr, t.lengths, t.tasks) == (50, 0.01, [1, 2], ["b"])
    assert type(Toy.resolve("cpu", {"lr": 1}).lr) is float  # an int where a float is expected
    assert Toy.resolve("cpu", {"lengths": (3, 4)}).lengths == [3, 4]


def test_resolved_lists_are_copies() -> None:
    a = Toy.resolve("cpu")
    a.lengths.append(99)
    assert Toy.resolve("cpu").lengths == [8, 16]


@pytest.mark.parametrize(
    ("overrides", "msg"),
    [
        ({"stpes": 3}, "unknown parameter(s) stpes; valid: steps, lr, lengths, tasks"),
        ({"steps": "abc"}, "parameter steps='abc': expected int"),
        ({"steps": [1, 2]}, "parameter steps=[1, 2]: expected int"),
        ({"steps": 2.5}, "parameter steps=2.5: expected int"),
        ({"steps": True}, "parameter steps=True: expected int"),
        ({"lengths": 3}, "parameter lengths=3: expected list[int]"),
        ({"lengths": "[1, 'x']"}, "parameter lengths=[1, 'x']: expected list[int]"),
        ({"lr": "fast"}, "parameter lr='fast': expected float"),
        ({"steps": 0}, "parameter steps=0: must be >= 1"),
        ({"lr": -1}, "parameter lr=-1.0: must be >= 0.0"),
        ({"tasks": ["c"]}, "parameter tasks=['c']: must be one of a, b"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides: dict, msg: str) -> None:
    with pytest.raises(ValueError) as e:
        Toy.resolve("cpu", overrides)
    assert str(e.value) == msg


def test_bad_profile() -> None:
    with pytest.raises(ValueError, match="valid profiles: ci, cpu, gpu"):
        Toy.resolve("laptop")


@pytest.mark.parametrize(
    ("chapter", "overrides", "msg"),
    [
        ("21_kv_memory", {"capacity": 16}, r"capacity \(16\) must reach back over a whole test sequence"),
        ("21_kv_memory", {"tasks": ["mem_nope"]}, "must be one of mem_brackets"),
        ("21_kv_memory", {"tasks": ["mem_copy"]}, r"must include the judged tasks \['mem_brackets'\]"),
        ("21_kv_memory", {"window": 8}, r"window \(8\) must be shorter than the shortest training sequence"),
        ("31_entropy_gated_retrieval", {"pool_size": 10}, r"distractors \[20\] need pool_size >= 20"),
        ("32_topic_routing", {"sentence_len": 9}, r"sentence_len=9 must be one of lengths=\[8, 32\]"),
        ("32_topic_routing", {"stride": 16}, r"stride=16 must exceed max\(lengths\)=32"),
        ("50_leaderboard", {"arms": '["attention", "gpt5"]'}, "must be one of attention"),
    ],
)
def test_chapter_checks_run_at_resolve(chapter: str, overrides: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        preset_class(chapter).resolve("ci", overrides)


def test_unknown_chapter() -> None:
    with pytest.raises(ValueError, match="has no preset"):
        preset_class("99_nope")
