"""What each `logos` command does (cli.py parses the line and calls these). They load the full
machine, so importing this module brings in transformers; `logos ask` and `logos remember` on the
bundled model run before that (memory/answer.py, remember.py) and come here only when they cannot.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..base.errors import LogosError
from ..base.hparams import load_hparams
from ..base.models import load_model
from ..measure.evaluate import recall
from ..memory import state
from ..memory.config import MachineConfig
from ..memory.machine import LogosMachine
from ..sleep.ledger import Ledger
from ..wake.nullspace import free_dims, null_projectors
from ..wake.stats import layer_stats
from .bench import print_table, run
from .chat import repl
from .remember import need_space, remember, say, wake_and_save


def _warn_damage(m) -> None:
    if m.damaged:
        d = state.read_ledger(m.path)
        say(f"logos: {state.damage_line(m.path, d, m.damaged)}")


def _open(args, write: bool, allow_damage: bool = False):
    cfg = MachineConfig(user_name=getattr(args, "user", None)) if getattr(args, "user", None) else None
    m = LogosMachine.open(args.state, args.model, args.device, write=write, cfg=cfg, four_bit=args.four_bit or None,
                          allow_damage=allow_damage)
    if getattr(args, "user", None) and m.cfg.user_name != args.user:
        m.cfg.user_name = args.user
    _warn_damage(m)
    return m


def _remember(args) -> int:
    return remember(args, lambda a: _open(a, write=True))


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
    need_space(args)
    m = _open(args, write=True)
    try:
        if not m.ledger.entries:
            say("nothing to consolidate yet: tell some facts first (logos remember ...)")
            return 0

        def saved(log):
            m.save()
            say(f"cycle {log['cycle']}: chat {log['chat']:.2f}, raw {log['raw']:.2f}, "
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
    need_space(args)
    m = _open(args, write=True)
    try:
        return repl(m, sys.stdin, wake_and_save)
    finally:
        m.close()


def _recover(args) -> int:
    path = Path(args.state).expanduser()
    if not (path / state.LEDGER).exists() and not (path / state.PREV).exists():
        state.kind(path)                # names what is there instead (or that nothing is)
        raise state.no_memory(path)
    with state.Lock(path):
        d = state.recover(path, yes=args.yes)
    say(f"back to the state before the last save: {len(d['ledger']['facts'])} facts, cycle {d['cycle']}")
    return 0


def _repair(args) -> int:
    path = Path(args.state).expanduser()
    if state.kind(path) == "new":
        raise state.no_memory(path)
    need_space(args)
    m = LogosMachine.open(path, args.model, args.device, write=True, four_bit=args.four_bit or None, allow_damage=True)
    try:
        if not m.damaged:
            say(f"nothing to repair: the edit files of all {len(m.ledger.entries)} facts read whole")
            return 0
        gone = state.repair(m)
        m.save()
        for f in gone:
            say(f"withdrawn (its edit file was damaged; tell it again to keep it): {f.statement}")
    finally:
        m.close()
    return 0


def _bench(args) -> int:
    for flag, value, least in (("--wake-facts", args.wake_facts, 1), ("--eval-facts", args.eval_facts, 1),
                               ("--stats-tokens", args.stats_tokens, 1), ("--sleep-facts", args.sleep_facts, 0),
                               ("--probes", args.probes, 0)):
        if value < least:
            raise LogosError(f"{flag} must be at least {least}")
    lm = load_model(args.model, device=args.device, four_bit=args.four_bit or None)
    rows = run(lm, hp=load_hparams(args.model), stats_tokens=args.stats_tokens, wake_facts=args.wake_facts,
               sleep_facts=args.sleep_facts, cli=not args.no_cli, model=args.model, eval_facts=args.eval_facts,
               probes=args.probes)
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
    say(f"warm: {args.model} on {lm.device}, statistics and projectors of layers {hp.layers} ready "
         f"(free dimensions {[free_dims(P[l]) for l in hp.layers]}) in {time.perf_counter() - t:.0f} s")
    return 0


RUN = {"remember": _remember, "ask": _ask, "sleep": _sleep, "status": _status, "recall": _recall, "chat": _chat,
       "recover": _recover, "repair": _repair, "bench": _bench, "warm": _warm}
