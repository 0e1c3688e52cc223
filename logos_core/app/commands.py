"""What each `logos` command does (cli.py parses the line and calls these). They load the full
machine, so importing this module brings in transformers; `logos ask` on the bundled model answers
before that (memory/answer.py) and comes here only when it cannot.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from ..base.errors import LogosError
from ..base.hparams import load_hparams
from ..base.models import load_model
from ..measure.evaluate import recall
from ..measure.facts import same_slot
from ..memory import state
from ..memory.config import MachineConfig
from ..memory.extract import MAX_CHARS, extract, withdrawals
from ..memory.machine import LogosMachine
from ..sleep.ledger import Ledger
from ..wake.nullspace import free_dims, null_projectors
from ..wake.stats import layer_stats
from .bench import print_table, run
from .chat import repl


NO_FACT = "no fact found in that (tell one as a statement, e.g. \"Aria lives in Lisbon.\")"


def _say(msg: str) -> None:
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


def _read_text(parts: list) -> str:
    if parts == ["-"]:           # from stdin, for long or scripted input
        raw = sys.stdin.buffer.read()
        return raw.decode("utf-8", errors="replace")
    return " ".join(parts)


# What a writing command may need on disk, in MB, checked before any compute: an edit file and the
# ledger twice (it and its way back) for remember; an adapter and the birth anchors for sleep. Far
# above what they write on the bundled model, so a full disk is found before minutes of work.
SPACE_MB = {"remember": 32, "sleep": 96, "chat": 96, "repair": 8}


def _need_space(args) -> None:
    path = Path(args.state).expanduser()
    there = next(p for p in (path, *path.parents) if p.exists())
    free = shutil.disk_usage(there).free / 2**20
    need = SPACE_MB[args.command]
    if free < need:
        raise LogosError(f"only {free:.0f} MB free on the disk of {path}; `logos {args.command}` needs about "
                         f"{need} MB: free some space first (nothing was changed)")


def _warn_damage(m) -> None:
    if m.damaged:
        d = state.read_ledger(m.path)
        _say(f"logos: {state.damage_line(m.path, d, m.damaged)}")


def _open(args, write: bool, allow_damage: bool = False):
    cfg = MachineConfig(user_name=getattr(args, "user", None)) if getattr(args, "user", None) else None
    m = LogosMachine.open(args.state, args.model, args.device, write=write, cfg=cfg, four_bit=args.four_bit or None,
                          allow_damage=allow_damage)
    if getattr(args, "user", None) and m.cfg.user_name != args.user:
        m.cfg.user_name = args.user
    _warn_damage(m)
    return m


def _wake(m, facts: list) -> int:
    """Write `facts` (extracted once, by the caller), saving after every fact; a fact is reported
    only once it is on disk."""

    def saved(rep):
        m.save()
        f = rep.added[-1]
        replaced = [old for old, new in rep.replaced if new is f]
        _say(f"remembered: {f.statement}" + (f" (instead of: {replaced[0].statement})" if replaced else ""))

    rep = m.inject(facts, on_fact=saved)
    for f in rep.known:
        _say(f"already known: {f.statement}")
    return len(rep.added)


def _stored_config(args) -> MachineConfig:
    """The state's own settings (read from its ledger, no model needed), with --user applied."""
    path = Path(args.state).expanduser()
    d = state.read_ledger(path) if state.kind(path) == "state" else None
    cfg = MachineConfig.from_dict(d["config"]) if d else MachineConfig()
    if getattr(args, "user", None):
        cfg.user_name = args.user
    return cfg


def _dry_run(args, cfg: MachineConfig, text: str) -> int:
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
        _say(NO_FACT)
    for r in rows if not args.json else []:
        print(f"{r['would']}: {r['statement']}  [{r['subject']} | {r['relation']} | {r['object']}]")
    return 0


def _remember(args) -> int:
    text = check_text(_read_text(args.text))
    cfg = _stored_config(args)
    if args.dry_run:
        return _dry_run(args, cfg, text)
    _need_space(args)
    facts, back = None, []
    if cfg.extractor == "rules":
        # the rules need no model: with nothing to write, answer before loading it
        facts, back = extract(text, user_name=cfg.user_name), withdrawals(text, user_name=cfg.user_name)
        if not facts and not back:
            _say(NO_FACT)
            return 0
    m = _open(args, write=True)
    try:
        facts = m.extract(text) if facts is None else facts    # the model itself extracts ("llm")
        _withdraw(m, back)
        if facts:
            _wake(m, facts)
        elif not back:
            _say(NO_FACT)
    finally:
        m.close()
    return 0


def _withdraw(m, back: list) -> None:
    """Take back what the person said is no longer so, saved before anything new is written."""
    gone = m.withdraw(back)
    if gone:
        m.save()
    for f in back:
        held = any(same_slot(g, f) for g in gone)
        _say(f"withdrawn: {f.statement}" if held else f"not held, nothing withdrawn: {f.statement}")


def _ask(args) -> int:
    """The full machine's answer (cli.main has checked the question and tried memory/answer.py first)."""
    m = _open(args, write=False)
    print(m.ask(" ".join(args.question).strip(), max_new_tokens=args.max_tokens, one_sentence=not args.long))
    return 0


def _sleep(args) -> int:
    if args.cycles < 1:
        raise LogosError("--cycles must be at least 1")
    if state.kind(Path(args.state).expanduser()) == "new":
        raise state.no_memory(Path(args.state).expanduser())
    _need_space(args)
    m = _open(args, write=True)
    try:
        if not m.ledger.entries:
            _say("nothing to consolidate yet: tell some facts first (logos remember ...)")
            return 0

        def saved(log):
            m.save()
            _say(f"cycle {log['cycle']}: chat {log['chat']:.2f}, raw {log['raw']:.2f}, "
                 f"advanced {len(log.get('advanced', []))}, dropped {len(log.get('dropped', []))}, "
                 f"perplexity drift {log['ppl_drift']:+.1%}" + (" (rolled back)" if log["rolled_back"] else "")
                 + f", {log['seconds']:.0f} s")

        m.sleep(args.cycles, progress=True, on_cycle=saved)
    finally:
        m.close()
    return 0


def _status(args) -> int:
    path = Path(args.state).expanduser()
    if state.kind(path) == "new":
        raise state.no_memory(path)
    d = state.read_ledger(path)     # the ledger alone: no model needed to say what is stored
    led = Ledger.from_dict(d["ledger"])
    st = {"model": d["model"], "cycle": d["cycle"], "adapters": len(d["adapters"]), "retired": len(led.retired),
          "facts": led.rows()}
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    print(f"{len(st['facts'])} facts, {st['cycle']} sleep cycles, {st['adapters']} adapters ({path})")
    for f in st["facts"]:
        print(f"  stage {f['stage']}  scale {f['scale']:.1f}  {f['statement']}")
    return 0


def _recall(args) -> int:
    m = _open(args, write=False)
    facts = m.facts()
    if not facts:
        print(json.dumps({"facts": [], "raw": None, "chat": None}) if args.json else "no facts stored")
        return 0
    r = recall(m.lm, facts, modes=("raw", "chat"))
    rows = [{"statement": f.statement, "raw": bool(a), "chat": bool(b), "chat_answer": c.strip()}
            for f, a, b, c in zip(facts, r["raw_hits"], r["chat_hits"], r["chat_answers"])]
    if args.json:
        print(json.dumps({"raw": r["raw"], "chat": r["chat"], "facts": rows}, indent=1))
        return 0
    print(f"recall of {len(facts)} facts: raw {r['raw']:.2f}, chat {r['chat']:.2f}")
    for row in rows:
        print(f"  raw {'ok ' if row['raw'] else 'MISS'} chat {'ok ' if row['chat'] else 'MISS'}  {row['statement']}")
    return 0


def _chat(args) -> int:
    _need_space(args)
    m = _open(args, write=True)
    try:
        return repl(m, sys.stdin, _wake)
    finally:
        m.close()


def _recover(args) -> int:
    path = Path(args.state).expanduser()
    if not (path / state.LEDGER).exists() and not (path / state.PREV).exists():
        state.kind(path)                # names what is there instead (or that nothing is)
        raise state.no_memory(path)
    with state.Lock(path):
        d = state.recover(path, yes=args.yes)
    _say(f"back to the state before the last save: {len(d['ledger']['facts'])} facts, cycle {d['cycle']}")
    return 0


def _repair(args) -> int:
    path = Path(args.state).expanduser()
    if state.kind(path) == "new":
        raise state.no_memory(path)
    _need_space(args)
    m = LogosMachine.open(path, args.model, args.device, write=True, four_bit=args.four_bit or None, allow_damage=True)
    try:
        if not m.damaged:
            _say(f"nothing to repair: the edit files of all {len(m.ledger.entries)} facts read whole")
            return 0
        gone = state.repair(m)
        m.save()
        for f in gone:
            _say(f"withdrawn (its edit file was damaged; tell it again to keep it): {f.statement}")
    finally:
        m.close()
    return 0


def _bench(args) -> int:
    lm = load_model(args.model, device=args.device, four_bit=args.four_bit or None)
    rows = run(lm, hp=load_hparams(args.model), stats_tokens=args.stats_tokens, wake_facts=args.wake_facts,
               sleep_facts=args.sleep_facts, cli=not args.no_cli, model=args.model)
    print_table(rows, args.json)
    return 0


def _warm(args) -> int:
    # Everything a first edit waits for, made once: the converted weights, the second-moment
    # statistics of the edited layers and their null-space projectors (each cached under LOGOS_CACHE).
    # Worth doing before several processes start on one model, so they don't all build the same files.
    t = time.perf_counter()
    lm = load_model(args.model, device=args.device, four_bit=args.four_bit or None)
    hp = load_hparams(args.model)
    P = null_projectors(lm, hp, layer_stats(lm, hp))
    _say(f"warm: {args.model} on {lm.device}, statistics and projectors of layers {hp.layers} ready "
         f"(free dimensions {[free_dims(P[l]) for l in hp.layers]}) in {time.perf_counter() - t:.0f} s")
    return 0


RUN = {"remember": _remember, "ask": _ask, "sleep": _sleep, "status": _status, "recall": _recall, "chat": _chat,
       "recover": _recover, "repair": _repair, "bench": _bench, "warm": _warm}
