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
ledger.json, and every file it names is complete. Files named by neither ledger are removed last,
and only files of the names logos writes (files.ours): a user's own file in the folder is left alone.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..base.atomic import save_tensors, write_bytes, write_json
from ..base.errors import LogosError
from ..base.hparams import load_hparams
from ..sleep.anchor_files import join_anchors, write_anchors
from ..sleep.branch import fuse
from ..sleep.ledger import Ledger
from ..wake.edits import LowRank
from .config import MachineConfig
from .files import (FORMAT, LEDGER, PREV, Lock, check_weights, damage_line, default_state_dir,  # noqa: F401
                    kind, no_memory, ours, read_adapters, read_edits, read_ledger, read_tensors)


def open_state(cls, path: Path, model: str, device, write: bool, cfg, four_bit: bool | None = None,
               allow_damage: bool = False, *, load):
    """A memory of class `cls` (store.Memory, machine.LogosMachine) on the state in `path`, or a new
    one there when `write` and nothing is there yet, its model loaded by `load(model, device=,
    four_bit=, state=)` (models.load_model; plain.load_plain, which may answer None: then so does
    this). Facts whose edit files are damaged are left out and named in m.damaged ({edit id: what is
    wrong}); a writing command refuses such a state (its save would drop them silently) unless
    `allow_damage` (`logos repair`)."""
    if kind(path) == "new" and not write:
        raise no_memory(path)
    lock = Lock(path) if write else None
    try:
        d = read_ledger(path)
        if d is not None:
            model = d["model"]          # a state belongs to the model it was made with, 4-bit or not
            four_bit = bool(d.get("four_bit", False))
            cfg = MachineConfig.from_dict(d["config"])
        lm = load(model, device=device, four_bit=four_bit, state=path if d is not None else None)
        if lm is None:
            if lock is not None:
                lock.release()
            return None
        m = cls(lm, load_hparams(model), cfg)
        m.path, m.lock = path, lock
        if d is None:
            return m
        check_weights(path, d, lm.weights_id)
        edits, m.damaged = read_edits(path, d, m.book.shapes())
        if m.damaged and write and not allow_damage:
            raise LogosError(damage_line(path, d, m.damaged))
        for a in read_adapters(path, d):                 # base + adapters, fused in their order
            fuse(lm.model, a["tensors"])
            m.adapters.append(a)
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


def repair(m) -> list:
    """Withdraw the facts whose edit files are damaged (m.damaged): each goes to the ledger's retired
    facts with a "damaged" event, so its history stays and it can be told again. The caller saves."""
    keys = [k for k, e in m.ledger.entries.items() if e.edit in m.damaged]
    gone = [m.ledger.retire(k, m.cycle, "damaged").fact for k in keys]
    m.damaged = {}
    return gone


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
            write_bytes(path / PREV, (path / LEDGER).read_bytes())
        except LogosError:
            pass
    write_json(path / LEDGER, d)
    _prune(path)


def _prune(path: Path) -> None:
    """Remove the edit and adapter files that neither ledger names (withdrawn edits, replaced
    refreshes) and the temp files of a write that was killed. Only files logos itself names
    (files.ours): anything else a user put there stays."""
    keep = set()
    for name in (LEDGER, PREV):
        try:
            d = read_ledger(path, name)
        except LogosError:
            continue
        if d:
            keep |= {("edits", e["id"]) for e in d["edits"]} | {("adapters", a["id"]) for a in d["adapters"]}
    gone = []
    for sub in ("edits", "adapters"):
        for f in (path / sub).iterdir() if (path / sub).is_dir() else []:
            torn = f.name.startswith(".") and f.name.endswith(".tmp")     # atomic.write_bytes' temp name
            i = ours(sub, f.name[1:].rsplit(".", 2)[0] if torn else f.name)
            if i is not None and (torn or (sub, i) not in keep):
                gone.append(f)
    gone += [f for pat in (".ledger*.json.*.tmp", ".anchors.*.tmp") for f in path.glob(pat)]
    for f in gone:
        try:
            f.unlink()
        except OSError:       # the save is complete without it: the next save tries again
            pass


def recover(path: Path, yes: bool = False) -> dict:
    """Make the state before the last save the current one. A damaged ledger.json is replaced; a
    healthy one only with `yes` (its last save is thrown away); a newer one never."""
    path = Path(path).expanduser()
    prev = read_ledger(path, PREV)
    if prev is None:
        raise LogosError(f"{path} has no earlier state to go back to")
    try:
        now = read_ledger(path)
    except LogosError as e:
        if "newer logos" in str(e):
            raise
        now = None
    if now is not None and not yes:
        raise LogosError(f"{path / LEDGER} is healthy ({len(now['ledger']['facts'])} facts, cycle {now['cycle']}); "
                         f"`logos recover --yes` discards its last save and goes back to "
                         f"{len(prev['ledger']['facts'])} facts, cycle {prev['cycle']}")
    write_json(path / LEDGER, prev)
    return prev
