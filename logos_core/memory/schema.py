"""The ledger's schema, format 2: every field's type and range, checked before anything is built on it.

    problem(d) -> None, or one line saying what is wrong ("ledger.facts[3].stage is 7, not 0..3")

A ledger is read by `logos ask` and `status` without a model, so a wrong field must not surface
later as a KeyError deep in the machine: it is named here, with its path in the document. A ledger
of a newer format is not damaged, only newer: files.py says "upgrade", and nothing here rewrites it.
"""
from __future__ import annotations

import re

FORMAT = 2
EDIT_ID = re.compile(r"^[0-9a-f]{12}$")          # wake.edits.Edit.id: uuid4 hex, 12 digits
ADAPTER_ID = re.compile(r"^cycle\d{4,}$")        # sleep.cycle: one adapter per cycle, "cycle0003"
FACT_FIELDS = ("subject", "relation", "object", "statement", "raw_prompt", "chat_question")


class Bad(ValueError):
    pass


def _need(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise Bad(f"{where} {what}")


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _typed(d: dict, where: str, key: str, kind, what: str, optional: bool = False):
    if key not in d:
        _need(optional, where, f"lacks {key!r}")
        return None
    ok = _num(d[key]) if kind == "number" else isinstance(d[key], kind) and not (kind is int and isinstance(d[key], bool))
    _need(ok or (optional and d[key] is None), f"{where}.{key}", f"is {type(d[key]).__name__}, not {what}")
    return d[key]


def _entry(e, where: str, top: int, edit_ids: set) -> None:
    _need(isinstance(e, dict), where, "is not an object")
    fact = _typed(e, where, "fact", dict, "an object")
    for k in FACT_FIELDS:
        _typed(fact, f"{where}.fact", k, str, "text")
    _typed(fact, f"{where}.fact", "paraphrases", list, "a list", optional=True)
    stage = _typed(e, where, "stage", int, "a whole number", optional=True) or 0
    _need(0 <= stage <= top, f"{where}.stage", f"is {stage}, not 0..{top}")
    edit = _typed(e, where, "edit", str, "an edit id", optional=True)
    _need(edit is None or edit in edit_ids or where.startswith("ledger.retired"), f"{where}.edit",
          f"names {edit!r}, which is not among the ledger's edits")
    _typed(e, where, "history", list, "a list", optional=True)


def check(d) -> None:
    """Raise Bad (one line) where `d` is not a format-2 ledger."""
    _need(isinstance(d, dict), "the ledger", "is not a JSON object")
    _need(d.get("format") == FORMAT, "format", f"is {d.get('format')!r}, not {FORMAT}")
    for k in ("model", "weights_id"):
        _typed(d, "ledger.json", k, str, "text")
    _typed(d, "ledger.json", "config", dict, "an object")
    cycle = _typed(d, "ledger.json", "cycle", int, "a whole number")
    _need(cycle >= 0, "cycle", f"is {cycle}, below 0")
    _typed(d, "ledger.json", "base_ppl", "number", "a number", optional=True)
    edits = _typed(d, "ledger.json", "edits", list, "a list")
    ids = set()
    for i, e in enumerate(edits):
        w = f"edits[{i}]"
        _need(isinstance(e, dict), w, "is not an object")
        eid = _typed(e, w, "id", str, "an edit id")
        _need(bool(EDIT_ID.match(eid)), f"{w}.id", f"{eid!r} is not an edit id")
        s = _typed(e, w, "scale", "number", "a number")
        _need(0.0 <= s <= 1.0, f"{w}.scale", f"is {s}, not 0..1")
        _typed(e, w, "facts", list, "a list", optional=True)
        ids.add(eid)
    for i, a in enumerate(_typed(d, "ledger.json", "adapters", list, "a list")):
        w = f"adapters[{i}]"
        _need(isinstance(a, dict), w, "is not an object")
        aid = _typed(a, w, "id", str, "an adapter id")
        _need(bool(ADAPTER_ID.match(aid)), f"{w}.id", f"{aid!r} is not an adapter id")
        scaling = _typed(a, w, "scaling", dict, "an object")
        _need(all(_num(v) for v in scaling.values()), f"{w}.scaling", "holds a value that is not a number")
    led = _typed(d, "ledger.json", "ledger", dict, "an object")
    sched = _typed(led, "ledger", "schedule", list, "a list", optional=True) or [1.0, 0.5, 0.1, 0.0]
    _need(len(sched) >= 1 and all(_num(s) and 0 <= s <= 1 for s in sched), "ledger.schedule",
          "is not a list of scales in 0..1")
    for group in ("facts", "retired"):
        for i, e in enumerate(_typed(led, "ledger", group, list, "a list", optional=True) or []):
            _entry(e, f"ledger.{group}[{i}]", len(sched) - 1, ids)


def problem(d) -> str | None:
    try:
        check(d)
    except Bad as e:
        return str(e)
    return None
