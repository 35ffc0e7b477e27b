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
# # 2. The memory zoo
#
# **Question.** The five seed projects use nine different ways to let a transformer remember.
# Before any of them is compared, each must be *exact* (it computes the equation it claims),
# *causal* (no token sees the future), *segment-recurrent* (feeding a long sequence in pieces
# with the memory carried gives the same answer as one pass), and we need to know what it
# *costs*. This chapter checks all four for the nine memories of `memnb.layers.registry.ZOO`, on
# random inputs drawn here, and measures the memory ops' speed on this machine. The registry
# (`registry.MEMORIES`) holds eleven: the other two, an AMS-style prefix memory
# (`memnb/layers/prefix_memory.py`) and HRS-style retrieval into context
# (`memnb/layers/retrieval_context.py`), joined with {doc}`50_leaderboard`; the unit tests check
# causality and segment recurrence for all eleven.
#
# | memory | equation in | used by |
# |---|---|---|
# | full causal attention + RoPE | `memnb/layers/attention.py` | every baseline |
# | sliding-window attention | `memnb/layers/sliding_window.py` | Drex L1 |
# | Infini-attention | `memnb/layers/infini_attention.py` | Drex L2 |
# | Titans neural memory | `memnb/layers/titans.py` | Drex L3 (whose own read path is never called) |
# | episodic/semantic delta-rule memory | `memnb/layers/drex_memory.py`, `memnb/ops/drex_memory/` | Drex L4 |
# | external key-value memory | `memnb/layers/kv_memory.py` | memory-architectures |
# | memory tokens (recurrent) | `memnb/layers/memory_tokens.py` | ReLSM ssm_mem |
# | Mamba-2 (SSD) | `memnb/layers/ssd.py` | ReLSM ssm |
# | exponential-kernel attention | `memnb/layers/exp_kernel_attention.py` | HRS |
#
# Every layer has one interface, `forward(x, state) -> (y, new_state)`: `state=None` is an
# empty memory, and the returned state continues the same sequence.

# %% tags=["parameters"]
profile = "cpu"
seeds = None
overrides = {}

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from memnb import plotting
from memnb.book import bench
from memnb.book.chapter import Chapter
from memnb.eval import probes
from memnb.layers import registry as zoo
from memnb.ops.drex_memory import IMPLS as DREX_IMPLS
from memnb.ops.drex_memory import alpha_for_length, drex_memory, tau_over_L
from memnb.ops.gated_delta_rule import IMPLS as GDR_IMPLS
from memnb.ops.gated_delta_rule import gated_delta_rule
from memnb.seeding import seed_everything

ch = Chapter.open("02_memory_zoo", profile, seeds, overrides)

# %% [markdown]
# ## 1. Exact, causal, segment-recurrent
#
# For each layer and seed: a random input `x` of `seq_len` tokens (float64), one pass vs the
# same sequence fed in segments of 16 and of 7 tokens (7 cuts across the layers' own 16-token
# segments), and the largest change at positions before t when the input at t is replaced by
# noise. Both errors must be zero up to float64 rounding (< 1e-10). The state size is the bytes
# a layer carries after reading the whole sequence (float64 here; half that in float32).

# %%
rows = []
for seed in ch.seeds:
    seed_everything(seed)
    x = torch.randn(2, ch["seq_len"], ch["d_model"], dtype=torch.float64)
    t_edit = ch["seq_len"] * 2 // 3
    for name in zoo.ZOO:
        layer = zoo.build(name, ch["d_model"], 4, segment_len=16).double().eval()
        _, state = layer(x, None)
        rows.append(
            {
                "memory": name,
                "seed": seed,
                "params": zoo.num_params(layer),
                "state (KiB)": zoo.state_bytes(state) / 1024,
                "segments of 16": probes.segment_error(layer, x, 16),
                "segments of 7": probes.segment_error(layer, x, 7),
                "future leak": probes.future_leak(layer, x, t_edit),
            }
        )
checks = pd.DataFrame(rows)
worst = checks.groupby("memory", sort=False).agg(
    {"params": "first", "state (KiB)": "first", "segments of 16": "max", "segments of 7": "max", "future leak": "max"}
)
errors = worst[["segments of 16", "segments of 7", "future leak"]]
assert (errors < 1e-10).all().all(), errors[(errors >= 1e-10).any(axis=1)]
ch.metric("max_segment_error", float(errors[["segments of 16", "segments of 7"]].max().max()))
ch.metric("max_future_leak", float(errors["future leak"].max()))
worst.style.format(
    {"state (KiB)": "{:.1f}", "segments of 16": "{:.1e}", "segments of 7": "{:.1e}", "future leak": "{:.1e}"}
)

# %% [markdown]
# Full attention and exponential-kernel attention carry every past token (their state grows
# with the sequence, and their lines coincide); the KV memory grows until its capacity (128
# slots) and then evicts the oldest; sliding window keeps `window − 1` tokens; Infini-attention,
# Drex L4, memory tokens, Titans and Mamba-2 keep a fixed-size state however long the sequence
# gets.

# %%
grow = []
for T in [ch["seq_len"] // 4 * 2**i for i in range(4)]:
    x = torch.randn(1, T, ch["d_model"])
    for name in zoo.ZOO:
        layer = zoo.build(name, ch["d_model"], 4, segment_len=16).eval()
        with torch.no_grad():
            grow.append({"memory": name, "T": T, "state (KiB, float32)": zoo.state_bytes(layer(x, None)[1]) / 1024})
lengths_T = sorted({g["T"] for g in grow})
ax = sns.lineplot(data=pd.DataFrame(grow), x="T", y="state (KiB, float32)", hue="memory", style="memory", markers=True)
ax.set(xscale="log", yscale="log", title="memory state after T tokens (batch 1)")
ax.set_xticks(lengths_T, [str(t) for t in lengths_T])
ax.legend(fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ## 2. The delta rule, worked by hand
#
# The gated delta rule (`memnb.ops.gated_delta_rule`, the state update behind Infini-attention's
# delta write and Drex L4) keeps a matrix memory $h \in \mathbb{R}^{K\times V}$:
#
# $$h_t = e^{g_t} h_{t-1}, \qquad h_t \mathrel{+}= k_t\,\big(\beta_t (v_t - h_t^\top k_t)\big)^\top,
# \qquad o_t = h_t^\top (s\, q_t).$$
#
# With orthonormal keys, $\beta = 1$ and no decay ($g = 0$), writing $(k_i, v_i)$ stores each value
# exactly, and querying with $k_i$ (scale $s = 1$) reads $v_i$ back. Writing a new value under an
# existing key *replaces* it (the delta rule corrects the prediction error), where a plain linear
# memory ($h \mathrel{+}= k v^\top$) would return the sum of both values.

# %%
K = V = 4
keys = torch.eye(K, dtype=torch.float64)[[0, 1, 2, 0]]  # the 4th write reuses key 0
vals = torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 3.0, 0], [5.0, 0, 0, 0]], dtype=torch.float64)
q = keys.clone()
o, h = gated_delta_rule(
    q[None, :, None],
    keys[None, :, None],
    vals[None, :, None],
    torch.zeros(1, 4, 1, dtype=torch.float64),
    torch.ones(1, 4, 1, dtype=torch.float64),
    scale=1.0,
    output_final_state=True,
    impl="naive",
)
read_back = (h[0, 0].T @ torch.eye(K, dtype=torch.float64)[:3].T).T  # query keys 0, 1, 2 at the end
linear = (keys.T @ vals).T @ torch.eye(K, dtype=torch.float64)[:3].T
print("delta rule reads :", read_back.tolist())
print("linear memory    :", linear.T.tolist())
assert torch.allclose(read_back, torch.tensor([[5.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 3.0, 0]], dtype=torch.float64))

# %% [markdown]
# ## 3. Fast paths against their references
#
# Each op has a per-token `naive` reference and fast forms. On fresh random inputs (float64 and
# float32, lengths that are not multiples of the chunk size, a non-zero initial state) the
# relative error of each fast form against the reference:
# $\max|o_\text{fast} - o_\text{ref}| / \max|o_\text{ref}|$, for outputs and final states.
# The test suite (`tests/test_ops_*.py`) checks the same and the gradients.


# %%
def gdr_inputs(B, T, H, D, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, T, H, D, generator=gen, dtype=dtype) for _ in range(3))
    k = torch.nn.functional.normalize(k, dim=-1)
    g = -torch.rand(B, T, H, generator=gen, dtype=dtype) * 0.1
    beta = torch.rand(B, T, H, generator=gen, dtype=dtype)
    return q, k, v, g, beta, torch.randn(B, H, D, D, generator=gen, dtype=dtype)


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


rows = []
for seed in ch.seeds:
    for dtype in (torch.float64, torch.float32):
        for T in (ch["seq_len"] - 3, ch["seq_len"] + 37):
            q, k, v, g, beta, h0 = gdr_inputs(2, T, 2, 16, dtype, seed)
            kw = dict(initial_state=h0, output_final_state=True)
            ref, ref_h = gated_delta_rule(q, k, v, g, beta, impl="naive", **kw)
            for impl in [i for i in GDR_IMPLS if i != "naive"]:
                out, out_h = gated_delta_rule(q, k, v, g, beta, impl=impl, **kw)
                rows.append({"op": f"gated_delta_rule/{impl}", "dtype": str(dtype)[6:], "T": T, "seed": seed,
                             "rel err (out)": rel(out, ref), "rel err (state)": rel(out_h, ref_h)})  # fmt: skip
            # the Drex write loop: two memories, keys as values (the seed's auto-associative form)
            ks, ke = k[:, :, 0], v[:, :, 0]
            dref = drex_memory(ks, ke, q_sem=ks, q_epi=ke, eta=0.2, thresh=0.7, impl="naive")
            for impl in [i for i in DREX_IMPLS if i != "naive"]:
                out = drex_memory(ks, ke, q_sem=ks, q_epi=ke, eta=0.2, thresh=0.7, impl=impl)
                assert torch.equal(out.fire, dref.fire), "write gates differ"
                rows.append({"op": f"drex_memory/{impl}", "dtype": str(dtype)[6:], "T": T, "seed": seed,
                             "rel err (out)": rel(out.readout, dref.readout),
                             "rel err (state)": rel(out.state.sem, dref.state.sem)})  # fmt: skip
fast = pd.DataFrame(rows)
worst_fast = fast.groupby(["op", "dtype"])[["rel err (out)", "rel err (state)"]].max()
bound = {"float64": 1e-10, "float32": 1e-4}
for (op, dtype), row in worst_fast.iterrows():
    assert row.max() < bound[dtype], (op, dtype, row.max())
    ch.metric(f"rel_err_{op.replace('/', '_')}_{dtype}", float(row.max()))
worst_fast.style.format("{:.1e}")

# %% [markdown]
# ## 4. Drex L4: the write gate and the length-adaptive step
#
# Drex writes its two associative memories with step $\eta = 1 - \alpha$, and only where the
# memory predicts the key badly: fire$_t$ = [$\lVert k_t - M\hat k_t\rVert \ge \theta \lVert k_t\rVert$]
# on either memory (the OR gate). Its fix for short segments makes $\alpha$ depend on the segment
# length, $\alpha(L) = 0.95^{96/L}$, so that the time constant $\tau = 1/(1-\alpha)$ stays a fixed
# fraction of $L$. The table computes both; chapter 10 tests whether it matters.

# %%
lengths = [16, 24, 32, 48, 64, 96, 128, 512]
pd.DataFrame(
    {
        "L": lengths,
        "alpha(L)": [alpha_for_length(L) for L in lengths],
        "tau/L adaptive": [tau_over_L(alpha_for_length(L), L) for L in lengths],
        "tau/L fixed 0.95": [tau_over_L(0.95, L) for L in lengths],
    }
).set_index("L").round(4).T

# %% [markdown]
# On random unit-scale keys the write rate (the fraction of positions whose gate fires) falls as
# the threshold $\theta$ rises, and a larger step fills the memory faster, so later keys are
# predicted better and fewer are written. Mean and 95% CI over seeds; 4 sequences of 96 tokens,
# $d/2 = 32$:

# %%
rates = []
for seed in ch.seeds:
    gen = torch.Generator().manual_seed(seed)
    ks = torch.randn(4, 96, 32, generator=gen, dtype=torch.float64)
    ke = torch.randn(4, 96, 32, generator=gen, dtype=torch.float64)
    for step, eta in (("fixed alpha 0.95", 0.05), ("alpha(32)", 1 - alpha_for_length(32))):
        for thresh in np.round(np.arange(0.3, 0.95, 0.1), 2):
            fire = drex_memory(ks, ke, eta=eta, thresh=float(thresh), impl="vectorised").fire
            rates.append({"seed": seed, "step": step, "threshold": thresh, "write rate": fire.double().mean().item()})
rates = pd.DataFrame(rates)
ax = plotting.mean_ci_lines(rates, x="threshold", y="write rate", hue="step")
ax.set(title="Drex OR gate on random keys", ylim=(0, 1.05))
plt.show()

# %% [markdown]
# ## 5. What the memories cost
#
# Forward time of the memory ops on this machine (`memnb.book.bench`, float32, B=4 sequences, H=4
# heads, head size 64, median of repeated calls, 2 threads), over the sequence lengths of the
# `bench_lengths` parameter, beside full causal softmax attention (PyTorch SDPA). On a log–log
# plot a cost linear in T has slope 1 and full attention slope 2; `gated_delta_rule/naive` is
# the per-token loop (batched over sequences and heads) that the chunked form must beat.
# Wall-clock numbers depend on the machine and its load; they are reported under `timings` in
# the results, never as findings. `python -m memnb bench` runs the full table (and the GPU
# impls on a CUDA machine) and writes `results/bench/<device>.json`.

# %%
rows, series = bench.measure(ch["bench_lengths"], ch.device, warmup=1, repeats=5, memory=False, verbose=False)
timing = pd.DataFrame([r for r in rows if r["status"] == "ok"])
timing["ms"] = timing["median_s"] * 1e3
ax = sns.lineplot(data=timing, x="T", y="ms", hue="case", marker="o")
ax.set(xscale="log", yscale="log", title=f"forward time on {bench.device_label(ch.device)}", ylabel="ms per call")
plt.show()
slopes = {case: bench.slope(list(s), list(s.values())) for case, s in series.items()}
speedup = {T: series[bench.LOOP_BASELINE][T] / series[bench.FAST][T] for T in ch["bench_lengths"]}
ch.timings.update(bench_slopes=slopes, chunked_speedup_vs_loop={str(t): x for t, x in speedup.items()})
summary = timing.pivot(index="case", columns="T", values="tokens_per_s").round(0)
summary["slope d log t / d log T"] = pd.Series(slopes).round(2)
print("chunked vs per-token loop:", {T: f"{x:.1f}x" for T, x in speedup.items()})
summary

# %% [markdown]
# ### Training throughput, seed ensembles, and the delta rule against fla's references
#
# What a chapter can decide on two cores is set by how many tokens its arms × seeds train on, so
# every memory should train at no less than 0.6× full attention's tokens/s in the chapters'
# setting (T = 256, one thread). `python -m memnb bench --train` measures it for every memory in
# the zoo (a decoder at d = 64, 2 layers, 4 heads, batch 8, AdamW step included, 1 and 2
# threads, T = 256 and 1024) with an analytic FLOP count per mixer and the fraction of an sgemm
# measured in the same run; a memory below the line carries its reason in the file. The same
# run compares S = 5 seeds trained together (`memnb.train.ensemble`, one batched forward and
# backward) with the usual way on the same two cores (two one-thread processes side by side).
# These figures are read from the committed `results/bench/<device>-train.json`, measured on a
# quiet machine, not here: a chapter run on a busy machine would distort them.

# %%
import json

from IPython.display import display

cpu_label = bench.device_label(torch.device("cpu"))
train_bench_path = bench.ROOT / "results" / "bench" / f"{cpu_label}-train.json"
if not train_bench_path.exists():
    print(
        f"No training-throughput results for {cpu_label}: {train_bench_path.relative_to(bench.ROOT)} is absent. "
        "Run `python -m memnb bench --train` on a quiet machine and commit the file to see these figures."
    )
else:
    train_bench = json.loads(train_bench_path.read_text())
    ref = train_bench["reference"]
    tput = pd.DataFrame(train_bench["results"])
    tput["setting"] = "T=" + tput["T"].astype(str) + ", " + tput["threads"].astype(str) + " thread(s)"
    order = tput[(tput["T"] == ref["T"]) & (tput["threads"] == ref["threads"])].sort_values("vs_attention")
    ax = sns.barplot(data=tput, y="mixer", x="vs_attention", hue="setting", order=order["mixer"])
    ax.axvline(ref["threshold"], color="k", ls="--", lw=1, label=f"{ref['threshold']}x attention")
    ax.set(xlabel="training tokens/s ÷ attention's", ylabel="", title=f"training throughput on {cpu_label}")
    ax.legend(fontsize=8)
    plt.show()
    mixers = pd.DataFrame(train_bench["mixers"]).T
    mixers["MFLOP/token"] = (mixers["flops_per_token"].astype(float) / 1e6).round(2)
    ch.timings.update(train_vs_attention={m: r["vs_attention"] for m, r in train_bench["mixers"].items()})
    print(f"at T={ref['T']}, {ref['threads']} thread(s); sgemm GFLOP/s: {train_bench['sgemm_gflops']}")
    for name, row in mixers[~mixers["passes"].astype(bool)].iterrows():
        print(f"- {name}: {row['reason']}")
    display(mixers[["vs_attention", "MFLOP/token", "passes"]].sort_values("vs_attention"))

# %%
if train_bench_path.exists() and train_bench.get("ensemble"):
    ens = train_bench["ensemble"]
    names = {
        "usual_2procs_1thread": "usual: 2 processes × 1 thread",
        "ensemble_2threads": "ensemble, 1 process × 2 threads",
        "ensemble_1thread": "ensemble, 1 process × 1 thread",
        "sub_ensembles_2procs_1thread": "2 sub-ensembles × 1 thread",
    }
    speed = pd.Series({names.get(k, k): v for k, v in ens["speedup_vs_usual"].items()})
    ax = speed.plot.barh(color=["0.6" if "usual" in k else "C0" for k in speed.index])
    ax.axvline(1.0, color="k", lw=1)
    ax.axvline(1.5, color="k", ls="--", lw=1, label="target 1.5×")
    ax.set(
        xlabel="tokens/s ÷ the usual way", title=f"S = {ens['S']} seeds of the {ens['mixer']} decoder, T = {ens['T']}"
    )
    ax.legend(fontsize=8, loc="lower right")
    plt.show()
    ch.timings.update(ensemble_speedup=train_bench["ensemble_speedup"])
    best = names.get(ens["best_on_two_cores"], ens["best_on_two_cores"])
    print(f"ensemble_speedup = {train_bench['ensemble_speedup']:.2f}x ({best}; target 1.5x); tried:")
    for t in ens["tried"]:
        print(f"- {t}")
elif train_bench_path.exists():
    print("this training bench was run without the ensemble comparison (--no-ensemble)")

# %%
op_bench_path = bench.ROOT / "results" / "bench" / f"{cpu_label}.json"
comparison = json.loads(op_bench_path.read_text()).get("reference_comparison") if op_bench_path.exists() else None
if comparison is None:
    print(
        f"No delta-rule reference comparison in {op_bench_path.relative_to(bench.ROOT)}: "
        "run `python -m memnb bench` on a quiet machine and commit the file."
    )
else:
    refs = pd.DataFrame(comparison["impls"]).T
    print(
        f"gated delta rule, T={comparison['T']}, B={comparison['B']}, H={comparison['H']}, D={comparison['D']}, "
        f"forward, float32, {comparison['threads']} threads; sgemm {comparison['sgemm_gflops']:.0f} GFLOP/s"
    )
    display(
        refs[["baseline", "median_s", "memnb_chunked_speedup", "useful_gflops", "executed_frac_of_peak",
              "max_rel_diff_vs_memnb_chunked"]]
    )  # fmt: skip

# %% [markdown]
# ## The answer
#
# Every layer in the zoo computes one pass and segment-by-segment identically (to float64
# rounding) and none lets a token see its future; the fast forms of both memory ops match their
# per-token references. Fixed-size memories (Infini-attention, Drex L4, memory tokens, Titans,
# Mamba-2) keep their state constant as the sequence grows, while attention and the KV memory
# grow with it. Later chapters can therefore compare these memories on equal terms: any
# difference they find is about what the memory learns, not about a bug in how it is computed.
#
# Where the memories are put to work: Drex L4 in {doc}`10_ema_bootstrap` and
# {doc}`11_gate_sweep`; the four Drex tiers together in {doc}`12_drex_model`; memory tokens and
# Mamba-2 in the ReLSM ladder ({doc}`20_relsm_ladder`); the external key-value memory in
# {doc}`21_kv_memory`; cross-attention in {doc}`30_engram_leakage`; the exponential kernel in
# {doc}`33_exp_kernel_attention`. All of them, side by side on one recall suite at matched size
# and training budget: {doc}`50_leaderboard`.

# %%
ch.publish()
