"""What every notebook shares: seeding, where results go, and stated, checked claims.

    set_seed(0)
    save_results("01_lora_sleep", results, out_dir)    # data/results/01_lora_sleep.json, atomically
    claim("chat recall >= 0.8 after 4 cycles", r >= 0.8) # prints PASS/FAIL; raises on FAIL if strict
"""
from __future__ import annotations

import datetime as _dt
import platform
import random
import subprocess
from pathlib import Path

import numpy as np
import torch

from ..base.atomic import write_json

ROOT = Path(__file__).resolve().parent.parent.parent   # the repository


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip()
    except Exception:
        return ""


def save_results(name: str, results: dict, out_dir: str | Path, params: dict | None = None) -> Path:
    """Write results plus provenance (parameters, commit, machine, date) as JSON."""
    out_dir = Path(out_dir)
    if not out_dir.is_absolute():
        out_dir = ROOT / out_dir
    payload = {"name": name, "params": params or {}, "results": results,
               "provenance": {"commit": _git_commit(), "date": _dt.datetime.now().isoformat(timespec="seconds"),
                              "machine": platform.platform(), "torch": torch.__version__,
                              "threads": torch.get_num_threads()}}
    path = out_dir / f"{name}.json"
    write_json(path, payload)
    return path


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
