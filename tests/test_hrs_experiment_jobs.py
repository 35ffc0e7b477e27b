"""Chapter 30's jobs (memnb.hrs.experiment.run_job): same numbers at any worker count, no generations
when n_samples = 0, the schedule and weight decay passed to training."""

from memnb.hrs.experiment import Setup, run_job, train_config
from memnb.parallel import run_jobs

TINY = Setup(d_model=16, n_layers=2, n_heads=2, seq_len=16, window=8, batch_size=2, steps=2, n_eval=2,
             n_samples=0, prompt_len=4, gen_len=4, schedule="constant", weight_decay=0.0)  # fmt: skip


def _strip(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.endswith("_s")}


def test_same_numbers_at_any_worker_count_and_no_generations():
    jobs = [("prepend_self", 7, TINY), ("xattn_ema", 7, TINY)]
    one = [_strip(r) for r in run_jobs(run_job, jobs, workers=1)]
    two = [_strip(r) for r in run_jobs(run_job, jobs, workers=2)]
    assert one == two
    assert all(r["generations"] == {} for r in one)
    assert set(one[0]["losses"]) == {"present", "absent", "shuffled", "past_windows"}


def test_train_config_follows_the_setup():
    cfg = train_config(TINY)
    assert (cfg.schedule, cfg.weight_decay, cfg.steps) == ("constant", 0.0, 2)
