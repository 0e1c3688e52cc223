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
from .schema import ADAPTER_ID, EDIT_ID, FORMAT, Bad, problem

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


def kind(path: Path) -> str:
    """"state" (a ledger is there), "new" (nothing there yet: a writing command may start a memory),
    or a LogosError naming what was found instead: a missing memory is never an empty one."""
    try:
        if (path / LEDGER).is_file():
            return "state"
        if not path.exists():
            if not path.parent.is_dir() and path != default_state_dir():
                raise LogosError(f"{path.parent} does not exist: make it first, or give another --state folder")
            return "new"
        if not path.is_dir():
            raise LogosError(f"{path} is a file, not a memory folder: give a folder with --state")
        found = sorted(f.name for f in path.iterdir() if f.name != ".lock")
    except PermissionError:
        raise LogosError(f"{path} cannot be read (permission denied): give a folder you own with --state") from None
    except OSError as e:
        raise LogosError(f"{path} cannot be read ({e.strerror}): give another --state folder") from None
    if not found:
        return "new"                      # an empty folder holds nothing that could be lost
    if (path / PREV).is_file() or (path / "edits").is_dir():
        hint = (f"`logos recover --state {path}` brings back the state before the last save"
                if (path / PREV).is_file() else "restore ledger.json from a backup")
        raise LogosError(f"{path} holds a memory's files ({', '.join(found[:4])}) but no ledger.json; {hint}")
    raise LogosError(f"{path} is not a logos memory (it holds {', '.join(found[:4])}"
                     f"{', ...' if len(found) > 4 else ''}); give an empty or new folder with --state")


def no_memory(path: Path) -> LogosError:
    return LogosError(f"no memory at {path} yet: `logos remember \"...\" --state {path}` starts one")


def read_ledger(path: Path, name: str = LEDGER) -> dict | None:
    f = path / name
    if not f.exists():
        return None
    try:
        d = json.loads(f.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        bad = str(e)[:60]
    except OSError as e:
        raise LogosError(f"{f} cannot be read ({e.strerror}); check its permissions") from None
    else:
        if isinstance(d, dict) and isinstance(d.get("format"), int) and d["format"] > FORMAT:
            raise LogosError(f"{f} was made by a newer logos (format {d['format']}, this one reads "
                             f"{FORMAT}): upgrade logos to open it")
        bad = problem(d)
        if bad is None:
            return d
    hint = (f"`logos recover --state {path}` goes back to the state before the last save"
            if (path / PREV).exists() and name == LEDGER else "restore the folder from a backup")
    raise LogosError(f"{f} is damaged ({bad}); {hint}")


def read_tensors(f: Path) -> dict:
    try:
        return load_file(str(f))
    except Exception as e:
        raise LogosError(f"{f} is damaged or missing ({type(e).__name__}); restore the folder from a "
                         f"backup") from None


def ours(sub: str, name: str) -> str | None:
    """The id in a file name that logos writes in edits/ or adapters/ (never a user's file there)."""
    stem, dot, ext = name.partition(".")
    pattern = EDIT_ID if sub == "edits" else ADAPTER_ID
    return stem if dot and ext == "safetensors" and pattern.match(stem) else None


def read_adapters(path: Path, d: dict) -> list:
    """The ledger's adapters, in their order: [{"id", "tensors": {module: {"A", "B", "scaling"}}, "n_facts"}].
    An adapter is every fact's since its cycle, so a damaged one cannot be contained: it is an error."""
    out = []
    for a in d["adapters"]:
        f = path / "adapters" / f"{a['id']}.safetensors"
        t = read_tensors(f)
        missing = [f"{mod}.{x}" for mod in a["scaling"] for x in "AB" if f"{mod}.{x}" not in t]
        if missing:
            raise LogosError(f"{f} lacks {missing[0]}; restore the folder from a backup")
        tensors = {mod: {"A": t[f"{mod}.A"], "B": t[f"{mod}.B"], "scaling": s} for mod, s in a["scaling"].items()}
        out.append({"id": a["id"], "tensors": tensors, "n_facts": a.get("n_facts")})
    return out


def _edit(f: Path, e: dict, shapes: dict | None) -> Edit:
    """One edit file, or Bad saying what is wrong with it (missing, torn, empty, a factor short,
    a shape that is not the layer's)."""
    if not f.is_file():
        raise Bad("missing")
    try:
        t = load_file(str(f))
    except Exception:
        raise Bad("torn or not safetensors") from None
    deltas = {}
    for k, v in t.items():
        part, _, l = k.partition(".")
        if part not in ("u", "v", "delta", "key") or not l.isdigit():
            raise Bad(f"holds an unknown tensor {k!r}")
        if part == "delta":
            deltas[int(l)] = v
        elif part == "u":
            if f"v.{l}" not in t:
                raise Bad(f"lacks its factor v.{l}")
            if v.ndim != 2 or t[f"v.{l}"].ndim != 2 or v.shape[1] != t[f"v.{l}"].shape[1]:
                raise Bad(f"factors u.{l} and v.{l} do not fit together")
            deltas[int(l)] = LowRank(v, t[f"v.{l}"])
        elif part == "v" and f"u.{l}" not in t:
            raise Bad(f"lacks its factor u.{l}")
    if not deltas:
        raise Bad("holds no update")
    for l, dl in deltas.items():
        shape = (dl.U.shape[0], dl.V.shape[0]) if isinstance(dl, LowRank) else tuple(dl.shape)
        if shapes is not None and (l not in shapes or shape != tuple(shapes[l])):
            raise Bad(f"layer {l} is {list(shape)}, not the model's {list(shapes.get(l, ()))}")
    keys = {int(k.split(".")[1]): v for k, v in t.items() if k.startswith("key.")}
    return Edit(deltas=deltas, facts=e.get("facts", []), scale=e["scale"], id=e["id"], keys=keys)


def read_edits(path: Path, d: dict, shapes: dict | None = None) -> tuple:
    """(the ledger's edits that read whole, as wake.edits.Edit; {edit id: what is wrong} for the rest).

    One fact's damaged file costs that fact only: the rest of the memory loads and answers, and
    `logos repair` withdraws the damaged ones. `shapes` ({layer: (out, in)}) checks each update fits."""
    edits, damaged = [], {}
    for e in d["edits"]:
        try:
            edits.append(_edit(path / "edits" / f"{e['id']}.safetensors", e, shapes))
        except Bad as why:
            damaged[e["id"]] = str(why)
    return edits, damaged


def damage_line(path: Path, d: dict, damaged: dict) -> str:
    """One line naming the facts whose edit files are damaged, and the way out."""
    names = [f["fact"]["statement"] for f in d["ledger"]["facts"] if f.get("edit") in damaged]
    first = next(iter(damaged.items()))
    return (f"{len(names) or len(damaged)} fact(s) unreadable, left out ({'; '.join(names[:3]) or first[0]}"
            f"{'; ...' if len(names) > 3 else ''}: edits/{first[0]}.safetensors {first[1]}); "
            f"`logos repair --state {path}` withdraws them so they can be told again")


def check_weights(path: Path, d: dict, weights_id: str) -> None:
    if d["weights_id"] != weights_id:
        raise LogosError(f"{path} was made with other weights ({d['weights_id']}); open it with the "
                         f"same model, or use a new --state folder")
