"""A memory state on disk: a JSON ledger and one safetensors file per edit, never the model itself.

    st = MemoryState.open(dir, model="135m")    # loads the model and re-applies every edit at its scale
    st.remember(facts); st.save()
    st.close()

Layout of the folder:
    ledger.json              model name, weights id, hyperparameters, facts with their edit and scale
    edits/<edit id>.safetensors   deltas, one tensor per edited layer ("layer.<L>")
    .lock                    held (flock) by the one process allowed to write

Saving writes each new edit file first and the ledger last, each atomically (atomic.py): a crash at
any point leaves the previous ledger, which names only edit files that were complete.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from .atomic import save_tensors, write_json
from .contexts import Request
from .edits import Edit, EditBook
from .errors import LogosError
from .facts import Fact

FORMAT = 1


def default_state_dir() -> Path:
    return Path(os.environ.get("LOGOS_STATE", Path.home() / ".logos" / "default"))


class MemoryState:
    def __init__(self, path: Path, lm, hp, book: EditBook, ledger: dict, lock_fd):
        self.path, self.lm, self.hp, self.book, self.ledger, self._lock = path, lm, hp, book, ledger, lock_fd

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path, model: str = "135m", device=None, write: bool = True) -> "MemoryState":
        from .hparams import load_hparams
        from .models import load_model

        path = Path(path).expanduser()
        lock_fd = cls._acquire(path) if write else None
        ledger = cls._read_ledger(path)
        if ledger and ledger.get("model") != model:
            model = ledger["model"]  # a state belongs to the model it was made with
        lm = load_model(model, device=device)
        hp = load_hparams(model)
        book = EditBook(lm, hp)
        ledger = ledger or {"format": FORMAT, "model": model, "weights_id": lm.weights_id, "facts": [], "edits": []}
        if ledger.get("weights_id") != lm.weights_id:
            raise LogosError(f"{path} was made with other weights ({ledger.get('weights_id')}); "
                             f"open it with the same model, or use a new --state folder")
        for e in ledger["edits"]:
            deltas = cls._read_edit(path / "edits" / f"{e['id']}.safetensors")
            book.attach(Edit(deltas=deltas, facts=e.get("facts", []), scale=e["scale"], id=e["id"]))
        return cls(path, lm, hp, book, ledger, lock_fd)

    @staticmethod
    def _acquire(path: Path):
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LogosError(f"another logos process is writing {path}; wait for it to finish") from None
        return fd

    @staticmethod
    def _read_ledger(path: Path) -> dict | None:
        f = path / "ledger.json"
        if not f.exists():
            return None
        try:
            ledger = json.loads(f.read_text())
            if not isinstance(ledger, dict) or ledger.get("format") != FORMAT:
                raise ValueError("unknown format")
            return ledger
        except (ValueError, UnicodeDecodeError) as e:
            raise LogosError(f"{f} is damaged ({e}); restore it from a backup or start a new --state folder") from None

    @staticmethod
    def _read_edit(f: Path) -> dict:
        from safetensors.torch import load_file

        try:
            return {int(k.split(".")[1]): v for k, v in load_file(str(f)).items()}
        except Exception as e:
            raise LogosError(f"{f} is damaged or missing ({type(e).__name__}); the ledger names it, so "
                             f"restore the folder from a backup") from None

    # -- changing --------------------------------------------------------------------------------
    def stats(self):
        from .stats import layer_stats

        return layer_stats(self.lm, self.hp)

    def remember(self, facts: list) -> list:
        """MEMIT-edit each fact (one edit each, so each can later dissolve alone). Returns the edits."""
        from .memit import apply_memit

        stats = self.stats()
        made = []
        for f in facts:
            e = apply_memit(self.lm, self.hp, [Request.from_fact(f)], stats, [f])
            self.book.add(e)
            made.append(e)
        return made

    def save(self) -> None:
        known = {e["id"] for e in self.ledger["edits"]}
        for e in self.book.edits.values():
            if e.id not in known:
                save_tensors(self.path / "edits" / f"{e.id}.safetensors",
                             {f"layer.{l}": d for l, d in e.deltas.items()})
        self.ledger["edits"] = [{"id": e.id, "scale": e.scale, "facts": e.facts} for e in self.book.edits.values()]
        self.ledger["facts"] = [{**f, "edit": e.id, "scale": e.scale} for e in self.book.edits.values()
                                for f in e.facts]
        write_json(self.path / "ledger.json", self.ledger)
        live = {e.id for e in self.book.edits.values()}
        for f in (self.path / "edits").glob("*.safetensors") if (self.path / "edits").exists() else []:
            if f.stem not in live:
                f.unlink()  # withdrawn edits, after the ledger no longer names them

    def facts(self) -> list:
        """Every stored fact (the edit book is rebuilt from the ledger on open, so it is the one source)."""
        return [Fact.from_dict(f) for f in self.book.facts()]

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
