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
                 "locality": "locality", "ppl_drift": "perplexity drift", "bleed": "bleed"}


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


DRAWERS = {"01_lora_sleep": draw_01}


def draw(name: str, payload: dict, out_dir) -> list:
    return DRAWERS[name](payload, Path(out_dir))


def draw_all(results_dir, out_dir) -> list:
    paths = []
    for f in sorted(Path(results_dir).glob("*.json")):
        if f.stem in DRAWERS:
            paths += draw(f.stem, json.loads(f.read_text()), out_dir)
    return paths


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else "data/results"
    dst = sys.argv[2] if len(sys.argv) > 2 else "figures"
    for p in draw_all(src, dst):
        print(p)
