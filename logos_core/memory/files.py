"""The state folder's files, read without a model (and without transformers): the ledger, the tensor
files, the write lock. state.py builds a machine on them; `logos ask` (answer.py) reads them straight
into a plain-torch model. The folder's layout is in state.py.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from safetensors.torch import load_file

from ..base.errors import LogosError
from ..wake.edits import Edit, LowRank


FORMAT = 2
LEDGER, PREV = "ledger.json", "ledger.prev.json"


def default_state_dir() -> Path:
    return Path(os.environ.get("LOGOS_STATE", Path.home() / ".logos" / "default"))


class Lock:
    """The flock on DIR/.lock: one process writes a state at a time; the lock goes when its holder
    closes it or dies."""

    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LogosError(f"another logos process is writing {path}; wait for it to finish") from None
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def read_ledger(path: Path, name: str = LEDGER) -> dict | None:
    f = path / name
    if not f.exists():
        return None
    try:
        d = json.loads(f.read_text())
        if not isinstance(d, dict) or d.get("format") != FORMAT or not isinstance(d.get("ledger"), dict):
            raise ValueError("not a logos ledger of format %d" % FORMAT)
        return d
    except (ValueError, UnicodeDecodeError) as e:
        hint = (f"`logos recover --state {path}` goes back to the state before the last save"
                if (path / PREV).exists() and name == LEDGER else "restore the folder from a backup")
        raise LogosError(f"{f} is damaged ({str(e)[:60]}); {hint}") from None


def read_tensors(f: Path) -> dict:
    try:
        return load_file(str(f))
    except Exception as e:
        raise LogosError(f"{f} is damaged or missing ({type(e).__name__}); `logos recover --state "
                         f"{f.parent.parent}` goes back to the state before the last save") from None


def read_adapters(path: Path, d: dict) -> list:
    """The ledger's adapters, in their order: [{"id", "tensors": {module: {"A", "B", "scaling"}}, "n_facts"}]."""
    out = []
    for a in d["adapters"]:
        t = read_tensors(path / "adapters" / f"{a['id']}.safetensors")
        tensors = {mod: {"A": t[f"{mod}.A"], "B": t[f"{mod}.B"], "scaling": s} for mod, s in a["scaling"].items()}
        out.append({"id": a["id"], "tensors": tensors, "n_facts": a.get("n_facts")})
    return out


def read_edits(path: Path, d: dict) -> list:
    """The ledger's edits (wake.edits.Edit), each with its factors, keys and scale."""
    edits = []
    for e in d["edits"]:
        t = read_tensors(path / "edits" / f"{e['id']}.safetensors")
        deltas = {int(k.split(".")[1]): v for k, v in t.items() if k.startswith("delta.")}
        for k in [k for k in t if k.startswith("u.")]:
            l = k.split(".")[1]
            if f"v.{l}" not in t:
                raise LogosError(f"edit {e['id']} lacks its factor v.{l}; `logos recover --state {path}` "
                                 f"goes back to the state before the last save")
            deltas[int(l)] = LowRank(t[k], t[f"v.{l}"])
        keys = {int(k.split(".")[1]): v for k, v in t.items() if k.startswith("key.")}
        edits.append(Edit(deltas=deltas, facts=e.get("facts", []), scale=e["scale"], id=e["id"], keys=keys))
    return edits


def check_weights(path: Path, d: dict, weights_id: str) -> None:
    if d["weights_id"] != weights_id:
        raise LogosError(f"{path} was made with other weights ({d['weights_id']}); open it with the "
                         f"same model, or use a new --state folder")
