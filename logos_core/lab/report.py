"""What every notebook shares: seeding, where results go, and stated, checked claims.

    set_seed(0)
    save_results("01_lora_sleep", results, out_dir)    # data/results/01_lora_sleep.json, atomically
    claim("chat recall >= 0.8 after 4 cycles", r >= 0.8) # prints PASS/FAIL; raises on FAIL if strict
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import random
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from ..base.atomic import write_json
from ..base.weights import pick_device

ROOT = Path(__file__).resolve().parent.parent.parent   # the repository


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# What a run writes (results, figures, executed notebooks, caches): not a change to the code it ran.
OUTPUTS = ("data/results/", "figures/", "notebooks/_out/", ".cache/")
STARTED = time.time()      # this module is imported in a notebook's first cell: its wall time runs from here


def tree_state(root: Path = ROOT) -> dict:
    """{"commit": the full hash, or None unless the tree is exactly that commit; "based_on": HEAD;
    "clean"; "changed": paths that differ from HEAD (tracked or untracked, outputs aside)}.
    A result from a tree with changes must not pass for a result of its commit."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=all")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "based_on": None, "clean": False, "changed": ["(no git here)"]}
    if head.returncode != 0 or status.returncode != 0:
        return {"commit": None, "based_on": None, "clean": False, "changed": ["(not a git checkout)"]}
    changed = [line[3:] for line in status.stdout.splitlines() if not line[3:].startswith(OUTPUTS)]
    sha = head.stdout.strip()
    return {"commit": None if changed else sha, "based_on": sha, "clean": not changed, "changed": changed[:50]}


def save_results(name: str, results: dict, out_dir: str | Path, params: dict | None = None) -> Path:
    """Write results plus provenance (parameters, commit and whether the tree was clean, machine,
    device, threads, wall time, date) as JSON."""
    out_dir = Path(out_dir)
    if not out_dir.is_absolute():
        out_dir = ROOT / out_dir
    params = params or {}
    device = params.get("DEVICE")
    payload = {"name": name, "params": params, "results": results,
               "provenance": {**tree_state(), "date": _dt.datetime.now().isoformat(timespec="seconds"),
                              "machine": platform.platform(), "cpu": platform.processor() or platform.machine(),
                              "cores": os.cpu_count(), "device": pick_device(device if isinstance(device, str) else None),
                              "torch": torch.__version__, "threads": torch.get_num_threads(),
                              "wall_seconds": round(time.time() - STARTED, 1)}}
    path = out_dir / f"{name}.json"
    write_json(path, payload)
    return path


def pct(x: float) -> str:
    """A drift as a whole signed percent, as the checked cells print it: to a whole percent because the
    next digit moves with the order of float sums, and never "-0%" (a drift of -0.0001 and one of
    +0.0001 must print alike)."""
    return f"{round(100 * x):+d}%"


class ClaimFailed(AssertionError):
    pass


def claim(text: str, ok: bool, strict: bool = True) -> bool:
    """State a claim and whether our run supports it; in strict mode a failed claim stops the notebook."""
    print(f"[{'PASS' if ok else 'FAIL'}] {text}")
    if strict and not ok:
        raise ClaimFailed(text)
    return ok


def resolve(path: str | Path) -> Path:
    """Paths in notebook parameters are relative to the repository root."""
    p = Path(path)
    return p if p.is_absolute() else ROOT / p
