"""`logos remember`: what was said, checked, extracted, then written fact by fact and saved after each.

    rc = quick_remember(args)             # on base/plain.py's model, no transformers; None: not here
    rc = remember(args, open_machine)     # the same on the full machine (commands.py)

A `remember` in a new process spent about 3 s importing transformers' model code beside the fact's
own wake. Writing an edit needs none of it: the state opens on the plain-torch model
(Memory.open_plain), which gives the same numbers (tests/test_answer.py), so the edit written is the
one the full machine writes (tests/test_persist.py compares the two). A state that path cannot open
(a new memory, whose perplexity baseline the full machine takes; another model; 4-bit; a GPU) is
left to commands.py, before anything is said or written.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from ..base.errors import LogosError
from ..measure.facts import same_slot
from ..memory import state
from ..memory.config import MachineConfig
from ..memory.extract import MAX_CHARS, extract, withdrawals
from ..memory.store import Memory
from ..sleep.ledger import Ledger

NO_FACT = "no fact found in that (tell one as a statement, e.g. \"Aria lives in Lisbon.\")"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_text(text: str) -> str:
    """What a person told us, or a one-line LogosError saying what to do instead."""
    if "\x00" in text or "\ufffd" in text:
        raise LogosError("that looks like binary data, not text: tell facts as sentences, e.g. \"Aria lives in Lisbon.\"")
    text = text.strip()
    if not text:
        raise LogosError("nothing to remember: give a sentence, e.g. logos remember \"Aria lives in Lisbon.\"")
    if len(text) > MAX_CHARS:
        raise LogosError(f"that text is {len(text):,} characters; tell at most {MAX_CHARS:,} at a time "
                         f"(split it into several `logos remember` calls)")
    return text


def told(args) -> str:
    """What was said: the words given, or standard input for "-" (long or scripted input). Read once
    and kept on `args`, since a second read of standard input finds it empty."""
    if getattr(args, "told", None) is None:
        if args.text == ["-"]:
            args.told = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        else:
            args.told = " ".join(args.text)
    return args.told


# What a writing command may need on disk, in MB, checked before any compute: an edit file and the
# ledger twice (it and its way back) for remember; an adapter and the birth anchors for sleep. Far
# above what they write on the bundled model, so a full disk is found before minutes of work.
SPACE_MB = {"remember": 32, "sleep": 96, "chat": 96, "repair": 8}


def need_space(args) -> None:
    path = Path(args.state).expanduser()
    there = next(p for p in (path, *path.parents) if p.exists())
    free = shutil.disk_usage(there).free / 2**20
    need = SPACE_MB[args.command]
    if free < need:
        raise LogosError(f"only {free:.0f} MB free on the disk of {path}; `logos {args.command}` needs about "
                         f"{need} MB: free some space first (nothing was changed)")


def wake_and_save(m, facts: list) -> int:
    """Write `facts` (extracted once, by the caller), saving after every fact; a fact is reported
    only once it is on disk."""

    def saved(rep):
        m.save()
        f = rep.added[-1]
        replaced = [old for old, new in rep.replaced if new is f]
        say(f"remembered: {f.statement}" + (f" (instead of: {replaced[0].statement})" if replaced else ""))

    rep = m.inject(facts, on_fact=saved)
    for f in rep.known:
        say(f"already known: {f.statement}")
    return len(rep.added)


def withdraw_and_save(m, back: list) -> None:
    """Take back what the person said is no longer so, saved before anything new is written."""
    gone = m.withdraw(back)
    if gone:
        m.save()
    for f in back:
        held = any(same_slot(g, f) for g in gone)
        say(f"withdrawn: {f.statement}" if held else f"not held, nothing withdrawn: {f.statement}")


def stored_config(args) -> MachineConfig:
    """The state's own settings (read from its ledger, no model needed), with --user applied."""
    path = Path(args.state).expanduser()
    d = state.read_ledger(path) if state.kind(path) == "state" else None
    cfg = MachineConfig.from_dict(d["config"]) if d else MachineConfig()
    if getattr(args, "user", None):
        cfg.user_name = args.user
    return cfg


def dry_run(args, cfg: MachineConfig, text: str) -> int:
    """What `remember` would store, each fact against the memory's ledger (read without a model)."""
    if cfg.extractor != "rules":
        raise LogosError("this memory's facts are extracted by the model itself (extractor \"llm\"), so a dry "
                         "run would load it: run without --dry-run, or see `logos status` after")
    path = Path(args.state).expanduser()
    d = state.read_ledger(path) if state.kind(path) == "state" else None
    led = Ledger.from_dict(d["ledger"]) if d else Ledger()
    rows = []
    for f in extract(text, user_name=cfg.user_name):
        old = led.get(f.subject, f.relation)
        what = ("new" if old is None else "already known" if led.holding(f)
                else f"replaces: {old.fact.statement}")
        rows.append({"subject": f.subject, "relation": f.relation, "object": f.object, "statement": f.statement,
                     "would": what})
    for f in withdrawals(text, user_name=cfg.user_name):
        rows.append({"subject": f.subject, "relation": f.relation, "object": f.object, "statement": f.statement,
                     "would": "withdraw" if led.holding(f) else "not held, nothing to withdraw"})
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
    elif not rows:
        say(NO_FACT)
    for r in rows if not args.json else []:
        print(f"{r['would']}: {r['statement']}  [{r['subject']} | {r['relation']} | {r['object']}]")
    return 0


def remember(args, open_machine) -> int | None:
    """The whole command; `open_machine(args)` opens the memory for writing, or answers None where it
    cannot (then so does this, having said and written nothing)."""
    text = check_text(told(args))
    cfg = stored_config(args)
    if args.dry_run:
        return dry_run(args, cfg, text)
    need_space(args)
    facts, back = None, []
    if cfg.extractor == "rules":
        # the rules need no model: with nothing to write, answer before loading it
        facts, back = extract(text, user_name=cfg.user_name), withdrawals(text, user_name=cfg.user_name)
        if not facts and not back:
            say(NO_FACT)
            return 0
    m = open_machine(args)
    if m is None:
        return None
    try:
        facts = m.extract(text) if facts is None else facts    # the model itself extracts ("llm")
        withdraw_and_save(m, back)
        if facts:
            wake_and_save(m, facts)
        elif not back:
            say(NO_FACT)
    finally:
        m.close()
    return 0


def _open_plain(args):
    if getattr(args, "four_bit", False) or stored_config(args).extractor != "rules":
        return None
    m = Memory.open_plain(args.state, device=args.device, write=True)
    if m is not None and getattr(args, "user", None):
        m.cfg.user_name = args.user
    return m


def quick_remember(args) -> int | None:
    """`logos remember` on the plain-torch model; None where that path does not apply."""
    return remember(args, _open_plain)
