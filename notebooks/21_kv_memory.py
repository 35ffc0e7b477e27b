# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 21. An external key-value memory on long-range tasks
#
# **Question.** Does adding an external key-value memory to a small decoder keep its loss lower
# than the plain decoder's as sequences get longer, on tasks whose answers depend on tokens far
# back, and does it (as it should) bring nothing on random tokens?
#
# **The seed** (Forgingalex/memory-architectures; README only, its code is not available: see the
# {doc}`memory-architectures appendix <../appendix/memarch>`) makes two qualitative claims,
# with no numbers:
#
# - `memarch.kv_memory_long_range`: "the baseline model's performance degrades more quickly as
#   sequence length increases, while the memory model maintains lower loss for longer
#   sequences", most noticeably on bracket matching and pattern copying;
# - `memarch.random_tokens_no_gain`: "on simple random token sequences, the difference may be
#   minimal".
#
# **Our reconstruction** (every choice below is ours, since the seed's code is unknown):
#
# - Every arm is the book's decoder (`memnb/models/decoder.py`: pre-LN blocks, tied head), 2
#   blocks, built in `memnb/memarch/model.py`. Two baselines with full causal attention: the
#   seed's, with positions (**`baseline`**, RoPE), and a position-free one (**`nope`**: no
#   positional signal at all, order enters only through the causal mask).
# - The memory arm (**`kv_memory`**) attends only inside a **local window** of `window` tokens,
#   shorter than every training sequence, and its second block adds the external memory of
#   `memnb/layers/kv_memory.py`: every token writes (key, value) = $(W_K x_t, W_V x_t)$ to a FIFO
#   buffer; the query $W_Q x_s$ retrieves the top-$k$ slots written strictly before $s$ by scaled
#   dot product, softmax-weights their values and adds them through a sigmoid gate. Whatever lies
#   more than `window` tokens back reaches a token through the memory only: the memory is
#   external to the attention, not a second top-$k$ view of the same context. The **`window`**
#   arm is the same model without its memory (what the window alone reaches). The arms without
#   a memory have wider MLPs (hidden width $5d$ instead of $4d$), so every arm has the same
#   number of parameters (to within $d$).
# - Why the NoPE baseline: the memory's retrieval is position-free, so beyond the training
#   lengths the memory arm meets no unseen position, while RoPE attention does. Against
#   `baseline` a gain there could be length extrapolation alone; against `nope` it cannot.
# - A fifth arm, `write_then_read`, is the README read literally: "during forward passes, the
#   model writes token representations ... to memory, then retrieves relevant past states". Done
#   in one batched pass, every position can then retrieve its own slot and every later one
#   (appendix §4, pitfalls 1–2). We cannot know whether the seed's code does this; we build it as
#   the arm *known to differ* on random tokens (the control of the second claim).
# - Tasks (`memnb/data/tasks/memarch.py`), trained on short lengths and tested on longer ones
#   (length = number of content tokens): **bracket matching** (4 bracket kinds; each closing
#   bracket is asked as `<close>` and the model must name it, so it must track the stack; chance
#   1/4), **copying** (16 symbols, `x <sep> x`, scored on the copy; chance 1/16), and **random
#   tokens** (16 symbols, every next token scored; nothing is predictable, so the best possible
#   loss is $\ln 16 = 2.773$ nats). Repeated elements stays in the `gpu` profile only: at the
#   protocol-1 run's budget neither arm left chance on it (accuracy 0.46–0.54), and this budget
#   goes to training copy longer.
# - Scores are teacher-forced on the informative answer positions (every scored target but the
#   closing `<eos>`): mean loss in nats per token and token accuracy, beside the chance level
#   of a model that knows the answer format but guesses uniformly (`memnb.memarch.chance`). The
#   train → score loop is `memnb/memarch/experiment.py`; the probes are `memnb/memarch/checks.py`.
#
# **What changed since the first version of this chapter** (issue 17): its one SUPPORTED
# long-range verdict rested on calibration (beyond training both arms' copy losses were worse
# than a uniform guess: 3.24 and 3.02 nats against $\ln 16 = 2.77$), and its "memory" was top-4
# position-free attention over the whole context, so the comparison confounded memory with
# length extrapolation. Now: the control is a floor (both arms must reach in-range accuracy
# ≥ 0.8 on the part's task), copy trains 1,000 steps instead of 250, accuracy beyond training is
# co-primary with loss, the NoPE baseline is added, the memory arm's attention is local, the
# claims are judged by protocol 2 with rules registered before the run, on fresh seeds.
#
# **Builds on** {doc}`00_data` (the long-range tasks), {doc}`02_memory_zoo` (the key-value
# memory's no-future-read check). Sibling: {doc}`20_relsm_ladder`.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown, display

from memnb import memarch, plotting
from memnb.book.chapter import Chapter
from memnb.memarch.experiment import make_batch
from memnb.memarch.model import parameter_gap
from memnb.memarch.rules import FLOOR, RULES
from memnb.seeding import seed_everything

ch = Chapter.open("21_kv_memory", profile, seeds, overrides)
arm_cfg = memarch.ArmConfig(d_model=ch["d_model"], capacity=ch["capacity"], top_k=ch["top_k"], window=ch["window"])
run_kw = dict(
    train_lengths=tuple(ch["train_lengths"]),
    test_lengths=tuple(ch["test_lengths"]),
    batch_size=ch["batch_size"],
    n_eval=ch["n_eval"],
    workers=ch["workers"],
)
lo_train, hi_train = ch["train_lengths"]
ood_lengths = [L for L in ch["test_lengths"] if L > hi_train]
in_lengths = [L for L in ch["test_lengths"] if lo_train <= L <= hi_train]
TASK_ARMS = ["baseline", "nope", "window", "kv_memory"]
print(arm_cfg)
print(f"seeds {ch.seeds}; trained on lengths {ch['train_lengths']}, tested on {ch['test_lengths']} "
      f"(in range: {in_lengths}; beyond training: {ood_lengths})")  # fmt: skip

# %% [markdown]
# ## Design, budget and power (piloted before the run)
#
# - **Effect** of the first claim, per seed $i$ and long-range task $\tau$: each arm's loss
#   $\ell$ and token accuracy $a$ on $\tau$ averaged over the test lengths beyond the training
#   range (`<task>_ood_loss_<arm>`, `<task>_ood_accuracy_<arm>`); then, per task, four paired
#   differences, loss and accuracy co-primary, against each baseline:
#   $\ell^{\text{baseline}}_i - \ell^{\text{kv}}_i$, $a^{\text{kv}}_i - a^{\text{baseline}}_i$, and the
#   same against `nope` — eight parts; the claim takes the weakest. Every arm of a seed trains on
#   the same batches and is scored on the same held-out examples.
# - **Control** (each part): both arms of the comparison have learned the part's task where they
#   were trained, in-range accuracy ≥ 0.8 on every seed; otherwise the part is UNTESTABLE (a
#   comparison beyond training between models that never learned the task says nothing).
# - **Second claim**: on random tokens, $g_i = \operatorname{mean}_L[\ell^{\text{baseline}}_i(L)
#   - \ell^{\text{kv}}_i(L)]$ over every test length, equivalent to 0 within δ = 0.02 nats; its
#   control is the write-then-read memory, known to differ: its loss must fall below $\ln 16$ by
#   more than δ on every seed.
# - **Causality**, a hard check, not a claim: replacing token $t+1$ must leave the logits at every
#   position $\le t$ unchanged (we require $< 10^{-6}$; a causal model gives exactly 0), for every
#   arm but write-then-read, before and after training. The chapter stops if not.
#
# **Pilot** (before the run, seed 100, which the chapter never uses; two worker processes of one
# thread each on the 2-core machine, alone under the CPU lock, 2026-12-02):
# `python -m memnb.memarch.pilot --seed 100 --steps 1000 --workers 2`, every arm on copy and
# brackets, 1,000 steps of batch 16 at d = 64: 137 s of wall time for the 8 runs. CPU seconds per
# step (training plus the scoring that follows, divided by the steps): copy — baseline 0.032,
# nope 0.028, window 0.031, kv_memory 0.036; brackets — 0.025, 0.022, 0.025, 0.029. What it
# showed: **no arm learned copy** at this budget (in-range accuracy at lengths 16 / 32: baseline
# 0.39 / 0.32, nope 0.28 / 0.20, kv_memory 0.08 / 0.05, window 0.06 / 0.03), and two variants
# did not change that (64 symbols instead of 16: baseline 0.51 / 0.26, kv_memory 0.02 / 0.02;
# lr 1e-2: baseline 0.27 / 0.29, kv_memory 0.12 / 0.06); every arm learned brackets (in range
# 0.85–1.0). Copy stays in the run at the 1,000 steps issue 17 asked for, and its parts will be
# UNTESTABLE unless the run's seeds behave unlike the pilot's; the rule was registered a second
# time after this pilot, one part per task (see `memnb/memarch/rules.py`), so that brackets can
# decide on its own.
#
# **Budget**: 5 seeds × 1,000 steps × (0.126 + 0.100) CPU s per step (the four arms' sum on copy
# and on brackets) = 1,131 CPU s, plus the random-token control, 5 seeds × 3 arms × 400 steps ×
# ≈ 0.025 s = 150 CPU s: ≈ 1,280 CPU s on two workers, ≈ 11–13 minutes of wall time (the pilot's
# 137 s per seed for the task runs, × 5, plus the control).
#
# **Power**: the design's MDE at n = 5 paired seeds is (t₀.₉₇₅,₄ + t₀.₈₀,₄) · SD/√5 = 3.72 · SD/√5
# = 1.66 · SD, so MDE ≤ δ needs the per-seed differences' SD ≤ 0.06 (accuracy, δ = 0.1) and
# ≤ 0.06 nats (loss, δ = 0.1). One pilot seed cannot estimate that SD; each verdict below reports
# the run's own MDE and is flagged underpowered where it exceeds δ.

# %% [markdown]
# ## Rules, registered before the run
#
# Written as data in `memnb/memarch/rules.py` (committed before this chapter's run; the ledger
# checks the hash):

# %%
ch.rules(RULES)

# %% [markdown]
# ## 1. Leakage: can any position see the future?
#
# For every seed, a fresh model of each arm reads two random sequences of 32 tokens; for every
# $t$ we change token $t+1$ and take the largest change of any logit at positions $\le t$
# (`memarch.future_leak`).

# %%
rows = []
for seed in ch.seeds:
    seed_everything(seed, threads=1)
    vocab = make_batch(memarch.RunConfig("mem_random", memarch.TASK_SETTINGS["mem_random"]), 1, 0, 8).vocab
    x = torch.randint(0, vocab.size, (2, 32), generator=torch.Generator().manual_seed(seed))
    for arm in memarch.ARMS:
        model = memarch.build_model(arm, vocab.size, arm_cfg)
        rows.append({"seed": seed, "arm": arm, "max |Δ logits at ≤ t|": memarch.future_leak(model, x, vocab.size)})
leak_init = pd.DataFrame(rows).groupby("arm", sort=False)["max |Δ logits at ≤ t|"].max()
for arm, value in leak_init.items():
    ch.metric(f"future_leak_init_{arm}", float(value))
assert (leak_init.drop("write_then_read") < 1e-6).all(), leak_init
leak_init.to_frame().style.format("{:.2e}")

# %% [markdown]
# Every arm but write-then-read changes nothing before $t+1$ (exactly 0); the write-then-read
# memory lets earlier positions see the edit, because its queries read slots $t \ge s$.
#
# Parameter counts of the arms (the memory's extra projections are matched by the other arms'
# wider MLPs):

# %%
vocab_sizes = {t: make_batch(memarch.RunConfig(t, s), 1, 0, 16).vocab.size for t, s in memarch.TASK_SETTINGS.items()}
params = {
    task: {arm: memarch.build_model(arm, vocab_sizes[task], arm_cfg).num_params() for arm in memarch.ARMS}
    for task in ch["tasks"] + ["mem_random"]
}
ch.metric("param_gap_kv_minus_baseline", parameter_gap(vocab_sizes["mem_copy"], arm_cfg))
pd.DataFrame(params).T.rename_axis("task (parameters)")

# %% [markdown]
# ## 2. Random tokens: the second claim and its control
#
# The baseline, the memory and the write-then-read memory are trained on random 16-symbol
# sequences for `control_steps` steps (same batches for every arm of a seed) and scored at every
# test length. Any loss below $\ln 16$ can only come from reading the future.

# %%
ctrl, ctrl_runs = memarch.run_grid(
    ["baseline", "kv_memory", "write_then_read"], ["mem_random"], ch.seeds, arm_cfg, steps=ch["control_steps"], **run_kw
)
ln16 = memarch.chance("mem_random", memarch.TASK_SETTINGS["mem_random"])["loss"]
for arm, g in ctrl.groupby("arm", sort=False):
    ch.metric(f"random_loss_{arm}", g.groupby("seed")["loss"].mean().sort_index().tolist())
    ch.metric(f"random_accuracy_{arm}", g.groupby("seed")["accuracy"].mean().sort_index().tolist())
for arm, g in ctrl_runs.groupby("arm", sort=False):
    ch.metric(f"future_leak_trained_random_{arm}", float(g["future_leak"].max()))
below = (ln16 - ctrl[ctrl.arm == "write_then_read"].groupby("seed")["loss"].mean()).sort_index()
ch.metric("write_then_read_below_ln16", below.tolist())
ctrl_table = ctrl.pivot_table(index="arm", columns="length", values="loss", aggfunc="mean", sort=False)
ctrl_table["chance ln 16"] = ln16
ctrl_table.style.format("{:.3f}").set_caption("random tokens: held-out loss (nats/token), mean over seeds")

# %%
fig, axes = plotting.subplots(2)
for ax, y, ref in zip(axes[0], ("loss", "accuracy"), (ln16, 1 / 16), strict=True):
    plotting.mean_ci_lines(ctrl, x="length", y=y, hue="arm", ax=ax)
    ax.axhline(ref, color="grey", ls="--", lw=1, label="chance")
    unit = "nats/token" if y == "loss" else "fraction"
    ax.set(xscale="log", xlabel="sequence length (tokens)", ylabel=f"{y} ({unit})")
    ax.set_xticks(ch["test_lengths"], [str(L) for L in ch["test_lengths"]])
    ax.legend(fontsize=7)
axes[0][0].set_title("random tokens: loss")
axes[0][1].set_title("random tokens: accuracy")
plt.show()

# %% [markdown]
# ## 3. Long-range tasks over growing lengths
#
# The four arms, trained for `steps` steps on each task at the training lengths (paired: the
# same batches for every arm of a seed), then scored at every test length. The dotted line is
# the control's floor (in-range accuracy 0.8), the dashed one chance.

# %%
scores, runs = memarch.run_grid(TASK_ARMS, ch["tasks"], ch.seeds, arm_cfg, steps=ch["steps"], **run_kw)
leak_trained = runs.groupby("arm")["future_leak"].max()
assert (leak_trained < 1e-6).all(), leak_trained
ch.metric("future_leak_trained_max", float(leak_trained.max()))
chance_rows = {t: memarch.chance(t, memarch.TASK_SETTINGS[t]) for t in ch["tasks"]}
for (task, arm, L), g in scores.groupby(["task", "arm", "length"]):
    ch.metric(f"{task}_loss_{arm}_L{L}", g.sort_values("seed")["loss"].tolist())
    ch.metric(f"{task}_accuracy_{arm}_L{L}", g.sort_values("seed")["accuracy"].tolist())
inside = scores[scores.length.isin(in_lengths)]
for (task, arm), g in inside.groupby(["task", "arm"]):
    ch.metric(f"{task}_in_range_accuracy_{arm}", g.groupby("seed")["accuracy"].mean().sort_index().tolist())
beyond = scores[scores.length.isin(ood_lengths)]
for arm, g in beyond.groupby("arm"):
    for y in ("loss", "accuracy"):
        ch.metric(f"ood_{y}_{arm}", g.groupby("seed")[y].mean().sort_index().tolist())
for (task, arm), g in beyond.groupby(["task", "arm"]):
    for y in ("loss", "accuracy"):
        ch.metric(f"{task}_ood_{y}_{arm}", g.groupby("seed")[y].mean().sort_index().tolist())
table = scores.pivot_table(index=["task", "arm"], columns="length", values=["loss", "accuracy"], aggfunc="mean")
for t, c in chance_rows.items():
    for col in table.columns:
        table.loc[(t, "chance"), col] = c[col[0]]
table.sort_index().style.format("{:.3f}").set_caption(
    "held-out loss (nats/token) and token accuracy (fraction), mean over seeds; columns: length"
)

# %%
fig, axes = plotting.subplots(len(ch["tasks"]), 2)
for j, task in enumerate(ch["tasks"]):
    for i, y in enumerate(("loss", "accuracy")):
        ax = axes[i][j]
        plotting.mean_ci_lines(scores[scores.task == task], x="length", y=y, hue="arm", ax=ax)
        ax.axhline(chance_rows[task][y], color="grey", ls="--", lw=1, label="chance")
        if y == "accuracy":
            ax.axhline(FLOOR, color="grey", ls=":", lw=1, label="control floor (in range)")
        ax.axvspan(lo_train, hi_train, color="grey", alpha=0.1, label="trained")
        ax.set(xscale="log", title=f"{task}: {y}", xlabel="length (content tokens)")
        ax.set(ylabel="nats / answer token" if y == "loss" else "token accuracy (fraction)")
        ax.set_xticks(ch["test_lengths"], [str(L) for L in ch["test_lengths"]])
        ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 4. What the memory costs
#
# Forward throughput (tokens per second on this machine, one thread, batch 16, wall clock:
# reported under `timings`, never as a finding) and the bytes of state each model carries after
# reading a sequence of length $L$ (float32; the attention KV caches, which the local window
# bounds, plus, for the memory, its buffer of up to `capacity` keys and values). Training time
# and CPU seconds per run are in `timings` too.

# %%
seed_everything(ch.seeds[0], threads=1)
cost = []
for L in ch["test_lengths"]:
    x = torch.randint(0, vocab_sizes["mem_copy"], (16, L), generator=torch.Generator().manual_seed(L))
    for arm in TASK_ARMS:
        o = memarch.overhead(memarch.build_model(arm, vocab_sizes["mem_copy"], arm_cfg), x)
        cost.append({"length": L, "arm": arm, **o})
cost = pd.DataFrame(cost)
for (arm, L), r in cost.set_index(["arm", "length"]).iterrows():
    ch.metric(f"state_bytes_{arm}_L{L}", int(r["state_bytes"]))
    ch.timings[f"tokens_per_s_{arm}_L{L}"] = round(float(r["tokens_per_s"]), 1)
all_runs = pd.concat([runs, ctrl_runs])
per_run = all_runs.groupby(["task", "arm"])[["train_time_s", "cpu_s"]].mean()
for key in ("train_time_s", "cpu_s"):
    ch.timings[f"{key}_per_run"] = {
        t: {a: round(float(v), 2) for a, v in r.items() if pd.notna(v)} for t, r in per_run[key].unstack().iterrows()
    }
ch.timings["cpu_s_training_total"] = round(float(all_runs["cpu_s"].sum()), 1)
cost_table = cost.pivot(index="arm", columns="length", values=["tokens_per_s", "state_bytes"])
cost_table["state_bytes"] = cost_table["state_bytes"] / 1024
cost_table.columns = [f"{'tokens/s' if k == 'tokens_per_s' else 'state KiB'} @ L={L}" for k, L in cost_table.columns]
display(cost_table.round(1))
print(f"{len(all_runs)} runs, {all_runs['cpu_s'].sum():.0f} CPU s of training and scoring in all")
(all_runs.assign(s_per_step=all_runs.cpu_s / all_runs.steps).groupby(["task", "arm"])["s_per_step"].mean()
 .unstack().round(4).rename_axis("CPU s per step (incl. scoring)"))  # fmt: skip

# %% [markdown]
# ## Verdicts (by the registered rules)
#
# Each part of the first claim is judged on its own (control first, then Δ's paired 95% CI
# against δ); the claim takes its weakest part.

# %%
ch.judge()


# %%
def f(x, spec: str = "+.3f") -> str:
    """A number for the printout, or – where the design gives none (one seed: no CI)."""
    return "–" if x is None else format(x, spec)


def part_line(p: dict) -> str:
    eff, ctl = p.get("effect") or {}, p.get("control") or {}
    lo, hi = eff.get("ci95") or (None, None)
    return (
        f"Δ = {f(eff.get('estimate'))} [{f(lo)}, {f(hi)}] (δ = {f(p.get('delta'), 'g')}, "
        f"MDE {f(eff.get('mde'), '.3f')}, n = {eff.get('n')}); "
        f"control {'passed' if ctl.get('passed') else 'FAILED'} ({ctl.get('measured', '')}) → {p['verdict']}"
    )


for c in ch.claims:
    print(f"{c['id']}: {c['verdict']}")
    for p in c.get("parts", None) or [c]:
        print(f"  {p.get('name', c['id'])}: {part_line(p)}")

# %% [markdown]
# The figure behind the first claim: the paired gaps (same seed and test set) at every length,
# mean and 95% CI over seeds and tasks, loss (baseline minus memory: above 0 the memory is
# better) and accuracy (memory minus baseline), against each baseline and against the window
# alone; the shaded band is the training range.

# %%
paired = scores.pivot_table(index=["task", "seed", "length"], columns="arm", values=["loss", "accuracy"])
gaps = []
for ref in ("baseline", "nope", "window"):
    g = pd.DataFrame(
        {
            "loss gap": paired["loss"][ref] - paired["loss"]["kv_memory"],
            "accuracy gap": paired["accuracy"]["kv_memory"] - paired["accuracy"][ref],
        }
    ).reset_index()
    gaps.append(g.assign(against=ref))
gaps = pd.concat(gaps)
fig, axes = plotting.subplots(2)
labels = ("ref − memory loss (nats/token)", "memory − ref accuracy (fraction)")
for ax, y, label in zip(axes[0], ("loss gap", "accuracy gap"), labels, strict=True):
    plotting.mean_ci_lines(gaps, x="length", y=y, hue="against", ax=ax)
    ax.axhline(0, color="grey", lw=1)
    ax.axvspan(lo_train, hi_train, color="grey", alpha=0.1)
    ax.set(xscale="log", xlabel="length (content tokens)", ylabel=label, title=f"kv_memory vs each reference: {y}")
    ax.set_xticks(ch["test_lengths"], [str(L) for L in ch["test_lengths"]])
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## The answer
#
# Computed from this run's verdicts and metrics (the cell below writes it; nothing in it is
# typed in):

# %%
claims = {c["id"]: c for c in ch.claims}
lr = claims["memarch.kv_memory_long_range"]
rt = claims["memarch.random_tokens_no_gain"]
m = ch.metrics


def mean_of(name: str) -> float:
    v = m[name]
    return v["mean"] if isinstance(v, dict) else v


lines = [f"**Long range: {lr['verdict']}** (weakest part: `{lr.get('weakest_part')}`).", ""]
lines += [f"- `{p['name']}`: {part_line(p)}" for p in lr.get("parts", [])]
lines += [
    "",
    "In-range accuracy (the control's floor is 0.8), then accuracy and loss beyond training, mean over seeds:",
    "",
]
for task in ch["tasks"]:
    cells = ", ".join(
        f"{arm} {mean_of(f'{task}_in_range_accuracy_{arm}'):.2f} / {mean_of(f'{task}_ood_accuracy_{arm}'):.2f}"
        f" / {mean_of(f'{task}_ood_loss_{arm}'):.2f}"
        for arm in TASK_ARMS
    )
    lines.append(
        f"- {task} (chance {chance_rows[task]['accuracy']:.3f} / {chance_rows[task]['loss']:.2f} nats): {cells}"
    )
lines += [
    "",
    f"**Random tokens: {rt['verdict']}**: baseline − memory loss on random tokens (nats/token): {part_line(rt)}.",
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# What the verdicts do and do not cover:
#
# - Both claims are judged on our reconstruction of a README with no code: one memory design
#   (top-$k$ = 4 dot-product retrieval through a sigmoid gate, in the second of two blocks,
#   beside attention inside a local window), at a tiny scale and a budget of 1,000 steps on two
#   CPU cores, five seeds. A different design or more training may behave differently; the
#   `gpu` profile (wider, longer, with repeated elements) has **not been run**: no GPU here.
# - Against `baseline` (RoPE) the comparison beyond training mixes memory with length
#   extrapolation; against `nope` it isolates the memory from it; against `window` (the same
#   model without memory: figure above, evidence, not judged) it shows what the memory adds to
#   the local attention. A part whose control failed says nothing about the claim, either way.
# - Random tokens can show a leak, never a real gain: a causal model cannot beat $\ln 16$, so
#   "no gain" is what any correct memory must give, and the causality probe on the
#   architecture, not the loss on a control task, is what rules a leak out. The write-then-read
#   arm tests whether the loss *would* show one: its leak is certain (section 1), but its loss
#   falls below $\ln 16$ only if training learns to use it.

# %%
ch.publish()
