"""Every figure, drawn from data/results/*.json alone (no model is loaded).

    python -m logos_core.plotting data/results figures     # what `make figures` runs
    draw("01_lora_sleep", payload, "figures")             # what a notebook calls

One function per results file; each writes figures/<results name>_<panel>.png.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

sns.set_theme(context="notebook", style="whitegrid")
METRIC_LABELS = {"raw": "raw recall", "chat": "chat recall", "paraphrase": "paraphrase recall",
                 "locality": "locality", "locality_heldout": "locality (held-out)", "ppl_drift": "perplexity drift",
                 "bleed": "bleed", "bleed_excess": "bleed over unedited", "chat_confused": "chat confusions"}


def _save(fig, out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _metric_lines(ax, df: pd.DataFrame, x: str, metrics: list, title: str, xlabel: str):
    long = df.melt(id_vars=[x], value_vars=[m for m in metrics if m in df], var_name="metric")
    long["metric"] = long["metric"].map(METRIC_LABELS)
    sns.lineplot(data=long, x=x, y="value", hue="metric", marker="o", ax=ax)
    ax.set(title=title, xlabel=xlabel, ylabel="share (drift: relative change)", ylim=(-0.05, 1.05))
    if x == "cycle":
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(fontsize=8)


def draw_01(payload: dict, out_dir: Path) -> list:
    """Paper 1: recall vs sleep cycles (side effects beside), and recall vs learning rate."""
    res, paths = payload["results"], []
    cyc = pd.DataFrame(res["cycles"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _metric_lines(axes[0], cyc, "cycle", ["raw", "chat", "paraphrase"], "Recall over sleep cycles", "sleep cycle")
    _metric_lines(axes[1], cyc, "cycle", ["locality", "ppl_drift", "bleed"], "Side effects over sleep cycles",
                  "sleep cycle")
    axes[1].set_ylim(auto=True)
    paths.append(_save(fig, out_dir, "01_recall_vs_cycles"))
    sw = pd.DataFrame(res["lr_sweep"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metrics, title in ((axes[0], ["raw", "chat", "paraphrase"], "Recall vs learning rate"),
                               (axes[1], ["locality", "ppl_drift", "bleed"], "Side effects vs learning rate")):
        _metric_lines(ax, sw, "lr", metrics, title, "learning rate")
        ax.set_xscale("log")
    axes[1].set_ylim(auto=True)
    paths.append(_save(fig, out_dir, "01_recall_vs_lr"))
    return paths


def draw_05(payload: dict, out_dir: Path) -> list:
    """Paper 5: the capacity curve (with the edit norm beside it) and recall per maintenance cycle."""
    res, paths = payload["results"], []
    cap = pd.concat([pd.DataFrame(rows).assign(arm=arm) for arm, rows in res["capacity"].items()])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    color = {arm: f"C{i}" for i, arm in enumerate(res["capacity"])}   # one colour per arm in both panels
    for metric, style in (("raw", "-"), ("chat", ":")):
        for arm, df in cap.groupby("arm", sort=False):
            axes[0].plot(df["n"], df[metric], style, marker="o", color=color[arm], label=f"{arm}, {metric}")
    axes[0].axhline(0.9, color="grey", lw=0.8)
    axes[0].set(title="Recall of all facts so far", xlabel="facts written", ylabel="recall", ylim=(-0.05, 1.05))
    axes[0].legend(fontsize=8)
    sns.lineplot(data=cap, x="n", y="delta_norm", hue="arm", palette=color, marker="o", ax=axes[1])
    axes[1].set(title="Edited-weight norm growth", xlabel="facts written", ylabel="|sum of edits| / |W|")
    paths.append(_save(fig, out_dir, "05_capacity"))
    conv = pd.concat([pd.DataFrame(rows).assign(arm=arm) for arm, rows in res["convergence"].items()])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    color = {arm: f"C{i}" for i, arm in enumerate(res["convergence"])}
    for metric, style in (("raw", "-"), ("chat", ":")):
        for arm, df in conv.groupby("arm", sort=False):
            axes[0].plot(df["cycle"], df[metric], style, marker="o", color=color[arm], label=f"{arm}, {metric}")
    axes[0].set(title="Recall per sleep cycle", xlabel="sleep cycle", ylabel="recall", ylim=(-0.05, 1.05))
    axes[0].legend(fontsize=8)
    long = conv.melt(id_vars=["cycle", "arm"], value_vars=["locality", "ppl_drift"], var_name="metric")
    sns.lineplot(data=long, x="cycle", y="value", hue="arm", palette=color, style="metric", marker="o", ax=axes[1])
    axes[1].set(title="Side effects per sleep cycle", xlabel="sleep cycle", ylabel="locality / perplexity drift")
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    paths.append(_save(fig, out_dir, "05_convergence"))
    return paths


def draw_06(payload: dict, out_dir: Path) -> list:
    """Paper 6: stage per fact per cycle, advancement and recall per cycle, starting loss per cycle."""
    res, paths = payload["results"], []
    facts = pd.DataFrame(res["facts"])
    sizes = sorted(facts["n_facts"].unique())
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.2 * len(sizes) + 1, 0.25 * max(sizes) + 2.5), squeeze=False)
    for ax, n in zip(axes[0], sizes):
        grid = facts[facts["n_facts"] == n].pivot_table(index="subject", columns="cycle", values="stage")
        sns.heatmap(grid, vmin=0, vmax=3, cmap="viridis", cbar=n == sizes[-1], annot=True, fmt=".0f", ax=ax)
        ax.set(title=f"{n} facts: stage per fact", xlabel="sleep cycle", ylabel="")
    paths.append(_save(fig, out_dir, "06_stages"))
    cyc = pd.DataFrame(res["cycles"])
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    sns.lineplot(data=cyc, x="cycle", y="at_top", hue="n_facts", marker="o", ax=axes[0], palette="viridis")
    axes[0].set(title="Share of facts fully consolidated (stage 3)", ylim=(-0.05, 1.05))
    long = cyc.melt(id_vars=["cycle", "n_facts"], value_vars=["chat", "lora_alone_chat"], var_name="recall")
    sns.lineplot(data=long, x="cycle", y="value", hue="n_facts", style="recall", marker="o", ax=axes[1],
                 palette="viridis")
    axes[1].set(title="Chat recall: scheduled scales vs LoRA alone", ylim=(-0.05, 1.05), ylabel="chat recall")
    sns.lineplot(data=cyc, x="cycle", y="start_loss", hue="n_facts", marker="o", ax=axes[2], palette="viridis")
    axes[2].set(title="Starting loss of each consolidation", ylabel="loss (nats/token)")
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    paths.append(_save(fig, out_dir, "06_advancement"))
    return paths


def _recall_bars(df: pd.DataFrame, x: str, hue: str, title: str, out_dir: Path, name: str) -> Path:
    long = df.melt(id_vars=[x, hue], value_vars=["raw", "chat", "lora_alone_chat"], var_name="recall")
    long["recall"] = long["recall"].map({"raw": "raw", "chat": "chat", "lora_alone_chat": "chat, LoRA alone"})
    g = sns.catplot(data=long, x=x, y="value", hue="recall", col=hue, kind="bar", height=3.6, aspect=1.3)
    g.set(ylim=(0, 1.05), ylabel="recall", xlabel="")
    g.fig.suptitle(title, y=1.03)
    for ax in g.axes.flat:
        ax.tick_params(axis="x", rotation=20)
    return _save(g.fig, out_dir, name)


def draw_02(payload: dict, out_dir: Path) -> list:
    """Paper 2: recall with edits vs LoRA alone per cycle, and the starting loss per cycle, by fusing."""
    df = pd.DataFrame(payload["results"]["rows"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    long = df.melt(id_vars=["cycle", "fusing", "model"], value_vars=["chat", "lora_alone_chat"], var_name="recall")
    sns.lineplot(data=long, x="cycle", y="value", hue="fusing", style="recall", marker="o", ax=axes[0])
    axes[0].set(title="Chat recall: with edits vs LoRA alone", ylim=(-0.05, 1.05), ylabel="chat recall")
    sns.lineplot(data=df.dropna(subset=["start_loss"]), x="cycle", y="start_loss", hue="fusing", style="model",
                 marker="o", ax=axes[1])
    axes[1].set(title="Starting loss of each consolidation", ylabel="loss (nats/token)")
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    return [_save(fig, out_dir, "02_alignment_tax")]


def draw_03(payload: dict, out_dir: Path) -> list:
    """Paper 3: chat and raw recall over a day and night, per memory system."""
    df = pd.DataFrame(payload["results"]["rows"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, metric in zip(axes, ("chat", "raw")):
        sns.lineplot(data=df, x="when", y=metric, hue="arm", marker="o", sort=False, ax=ax)
        ax.set(title=f"{metric} recall of every fact told so far", ylim=(-0.05, 1.05), xlabel="")
        ax.tick_params(axis="x", rotation=30)
    paths = [_save(fig, out_dir, "03_dual_system")]
    if payload["results"].get("compare"):
        paths.append(_draw_comparison(pd.DataFrame(payload["results"]["compare"]), out_dir))
    return paths


def _draw_comparison(cmp: pd.DataFrame, out_dir: Path) -> Path:
    """Every memory system after the last night: quality on the left, what it costs on the right."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), gridspec_kw={"width_ratios": [3, 1, 1, 1]})
    quality = ["chat", "raw", "paraphrase", "locality"]
    long = cmp.melt(id_vars=["arm"], value_vars=quality, var_name="metric")
    long["metric"] = long["metric"].map(METRIC_LABELS)
    sns.barplot(data=long, x="arm", y="value", hue="metric", ax=axes[0])
    axes[0].set(title="After the last night", ylim=(0, 1.05), xlabel="", ylabel="share")
    axes[0].legend(fontsize=8, loc="lower left")
    for ax, col, title, log in ((axes[1], "prompt_tokens", "prompt tokens per answer", False),
                                (axes[2], "wake_seconds_per_fact", "wake seconds per fact", True),
                                (axes[3], "bytes_on_disk", "bytes on disk", True)):
        sns.barplot(data=cmp, x="arm", y=col, ax=ax, color="0.6")
        ax.set(title=title, xlabel="", ylabel="")
        if log:
            ax.set_yscale("log")
    for ax in axes:
        ax.tick_params(axis="x", rotation=35)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")
    return _save(fig, out_dir, "03_comparison")


def draw_04(payload: dict, out_dir: Path) -> list:
    """Paper 4: raw vs chat recall after wake, SWS and REM ("pathway separation")."""
    df = pd.DataFrame(payload["results"]["rows"])
    return [_recall_bars(df, "when", "model", "Raw vs chat recall per sleep phase", out_dir, "04_two_phase")]


def draw_lifelong(payload: dict, out_dir, name: str = "lifelong") -> list:
    """The lifelong run: recall of every fact ever told and the side effects, night by night."""
    df = pd.DataFrame(payload["results"]["rows"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _metric_lines(axes[0], df, "day", ["chat", "raw", "paraphrase", "locality", "locality_heldout"],
                  "Every fact ever told, after each night", "day")
    axes[0].axhline(0.95, ls=":", c="0.5")
    _metric_lines(axes[1], df, "day", ["ppl_drift", "bleed", "bleed_excess", "chat_confused"], "Side effects", "day")
    axes[1].axhline(0.10, ls=":", c="0.5")
    axes[1].set_ylim(auto=True)
    return [_save(fig, Path(out_dir), name)]


def draw_field_edits(payload: dict, out_dir, name: str) -> list:
    """Score against the number of edits written, per arm: teacher-forced (left) and generated (right)."""
    rows = [r for r in payload["results"]["rows"] if r.get("phase", "wake") == "wake"]
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    panels = [(["efficacy", "generalisation", "specificity"], "Teacher-forced (the literature's scores)"),
              (["raw", "chat", "paraphrase", "neighbours_kept"], "Generated (greedy answers)")]
    for ax, (metrics, title) in zip(axes, panels):
        long = df.melt(id_vars=["edits", "arm"], value_vars=[m for m in metrics if m in df], var_name="metric")
        sns.lineplot(data=long, x="edits", y="value", hue="metric", style="arm", marker="o", ax=ax)
        ax.set(title=title, xlabel="edits written, one after another", ylabel="share", ylim=(-0.05, 1.05))
        ax.set_xscale("log")
        ax.legend(fontsize=7)
    return [_save(fig, Path(out_dir), name)]


DRAWERS = {"01_lora_sleep": draw_01, "02_alignment_tax": draw_02, "03_dual_system": draw_03,
           "04_two_phase": draw_04, "05_convergence": draw_05, "06_graduated": draw_06}


def draw(name: str, payload: dict, out_dir) -> list:
    return DRAWERS[name](payload, Path(out_dir))


def draw_all(results_dir, out_dir) -> list:
    paths = []
    for f in sorted(Path(results_dir).glob("*.json")):
        if f.stem in DRAWERS:
            paths += draw(f.stem, json.loads(f.read_text()), out_dir)
        elif f.stem.startswith("lifelong_"):
            paths += draw_lifelong(json.loads(f.read_text()), Path(out_dir), f.stem)
    return paths


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else "data/results"
    dst = sys.argv[2] if len(sys.argv) > 2 else "figures"
    for p in draw_all(src, dst):
        print(p)
