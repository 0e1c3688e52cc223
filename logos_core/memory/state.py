"""A memory state on disk: JSON and safetensors only (never pickle), never a copy of the model.

    DIR/ledger.json                 model, weights id, config, cycle, the ledger, edit scales, adapter order
    DIR/ledger.prev.json            the state before the last save (the way back if ledger.json is damaged)
    DIR/edits/<id>.safetensors      one fact's MEMIT update as its factors dW = U V^T ("u.<L>", "v.<L>";
                                    a dense "delta.<L>" is read too) and its keys ("key.<L>")
    DIR/adapters/<id>.safetensors   one sleep cycle's LoRA factors ("<module>.A", "<module>.B")
    DIR/anchors.json, anchors.safetensors   the model's behaviour at birth (anchors.py), written once
    DIR/.lock                       flock of the one process allowed to write (files.py reads them all)

A save writes the new edit and adapter files first (each: temp file, fsync, rename), then the ledger
the same way; files are named by id and never rewritten. A crash at any moment leaves the previous
ledger.json, and every file it names is complete. Files named by neither ledger are removed last.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..base.atomic import save_tensors, write_json
from ..base.errors import LogosError
from ..base.hparams import load_hparams
from ..base.models import load_model
from ..sleep.anchors import join_anchors, write_anchors
from ..sleep.branch import fuse
from ..sleep.ledger import Ledger
from ..wake.edits import LowRank
from .config import MachineConfig
from .files import (FORMAT, LEDGER, PREV, Lock, check_weights, default_state_dir, read_adapters,  # noqa: F401
                    read_edits, read_ledger, read_tensors)


def open_state(cls, path: Path, model: str, device, write: bool, cfg, four_bit: bool | None = None):
    """A machine of class `cls` (memory.machine.LogosMachine) on the state in `path`, or a new one there."""
    lock = Lock(path) if write else None
    try:
        d = read_ledger(path)
        if d is not None:
            model = d["model"]          # a state belongs to the model it was made with, 4-bit or not
            four_bit = bool(d.get("four_bit", False))
            cfg = MachineConfig.from_dict(d["config"])
        lm = load_model(model, device=device, four_bit=four_bit)
        m = cls(lm, load_hparams(model), cfg)
        m.path, m.lock = path, lock
        if d is None:
            return m
        check_weights(path, d, lm.weights_id)
        for a in read_adapters(path, d):                 # base + adapters, fused in their order
            fuse(lm.model, a["tensors"])
            m.adapters.append(a)
        edits = read_edits(path, d)
        m.book.load(edits)                            # + every edit at its scale, in one pass
        m.ledger = Ledger.from_dict(d["ledger"])
        if d.get("anchors"):       # read at the first sleep, not by every `logos ask`
            m.defer_anchors(lambda: read_anchors(path))
        m.cycle, m.base_ppl = d["cycle"], d["base_ppl"]
        return m
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def read_anchors(path: Path) -> dict:
    try:
        a = json.loads((path / "anchors.json").read_text())
    except (OSError, ValueError):
        raise LogosError(f"{path / 'anchors.json'} is damaged or missing; restore the folder from "
                         f"a backup") from None
    return join_anchors(a, read_tensors(path / "anchors.safetensors"))


def save_state(m, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for e in m.book.edits.values():
        f = path / "edits" / f"{e.id}.safetensors"
        if not f.exists():
            t = {}
            for l, d in e.deltas.items():
                if isinstance(d, LowRank):
                    t[f"u.{l}"], t[f"v.{l}"] = d.U.contiguous(), d.V.contiguous()
                else:
                    t[f"delta.{l}"] = d.contiguous()
            t.update({f"key.{l}": k.contiguous() for l, k in e.keys.items()})
            save_tensors(f, t)
    for a in m.adapters:
        f = path / "adapters" / f"{a['id']}.safetensors"
        if not f.exists():
            t = {}
            for mod, ab in a["tensors"].items():
                t[f"{mod}.A"], t[f"{mod}.B"] = ab["A"].contiguous(), ab["B"].contiguous()
            save_tensors(f, t)
    if m.has_anchors() and not (path / "anchors.json").exists():
        write_anchors(m.anchors, path / "anchors.json", path / "anchors.safetensors")
    d = {"format": FORMAT, "anchors": m.has_anchors(), "model": m.model_name, "weights_id": m.lm.weights_id,
         "four_bit": m.lm.four_bit, "config": m.cfg.to_dict(),
         "cycle": m.cycle, "base_ppl": m.base_ppl, "ledger": m.ledger.to_dict(),
         "edits": [{"id": e.id, "scale": e.scale, "facts": e.facts} for e in m.book.edits.values()],
         "adapters": [{"id": a["id"], "n_facts": a.get("n_facts"),
                       "scaling": {mod: ab["scaling"] for mod, ab in a["tensors"].items()}} for a in m.adapters]}
    if (path / LEDGER).exists():
        try:
            read_ledger(path)                         # only a good ledger becomes the way back
            shutil.copyfile(path / LEDGER, path / (PREV + ".tmp"))
            os.replace(path / (PREV + ".tmp"), path / PREV)
        except LogosError:
            pass
    write_json(path / LEDGER, d)
    _prune(path)


def _prune(path: Path) -> None:
    """Remove edit and adapter files that neither ledger names (withdrawn edits, replaced refreshes)."""
    keep = set()
    for name in (LEDGER, PREV):
        try:
            d = read_ledger(path, name)
        except LogosError:
            continue
        if d:
            keep |= {f"edits/{e['id']}" for e in d["edits"]} | {f"adapters/{a['id']}" for a in d["adapters"]}
    for sub in ("edits", "adapters"):
        for f in (path / sub).glob("*") if (path / sub).exists() else []:
            if f"{sub}/{f.name.split('.')[0]}" not in keep:
                f.unlink()


def recover(path: Path) -> dict:
    """Make the state before the last save the current one (after ledger.json was damaged)."""
    path = Path(path).expanduser()
    d = read_ledger(path, PREV)
    if d is None:
        raise LogosError(f"{path} has no earlier state to go back to")
    write_json(path / LEDGER, d)
    return d
