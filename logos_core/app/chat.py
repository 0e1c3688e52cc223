"""`logos chat`: a conversation with the machine. Statements are remembered ("... no longer ..."
takes one back), anything else answered.

    /sleep [N]     sleep N cycles (default 1)        /facts      what is stored, with stages
    /forget NAME   withdraw every fact about NAME    /quit       leave (everything is already saved)
"""
from __future__ import annotations

import sys

from ..base.errors import LogosError
from ..memory.extract import MAX_CHARS, withdrawals

HELP = "commands: /sleep [N], /facts, /forget NAME, /quit; statements are remembered, questions answered"


def _out(msg: str) -> None:
    print(msg, flush=True)


def handle(m, line: str, wake) -> bool:
    """One line of conversation; False when the person quits. Bad input gets a message, nothing else.
    `wake(m, facts)` writes the facts a statement gave (and saves each)."""
    line = line.replace("\x00", "").strip()
    if not line:
        return True
    if len(line) > MAX_CHARS:
        _out(f"(that message is {len(line):,} characters; say at most {MAX_CHARS:,} at a time)")
        return True
    if line.startswith("/"):
        cmd, _, rest = line.partition(" ")
        if cmd in ("/quit", "/exit"):
            return False
        if cmd == "/facts":
            for e in m.ledger.entries.values():
                _out(f"  stage {e.stage}  scale {m.ledger.scale(e.key):.1f}  {e.fact.statement}")
            if not m.ledger.entries:
                _out("(no facts yet)")
        elif cmd == "/sleep":
            n = int(rest) if rest.strip().isdigit() else 1
            if not m.ledger.entries:
                _out("(nothing to consolidate yet)")
            else:
                for log in m.sleep(max(1, min(n, 20)), on_cycle=lambda _: m.save()):
                    _out(f"(slept: cycle {log['cycle']}, chat recall {log['chat']:.2f}"
                         + (", rolled back" if log["rolled_back"] else "") + ")")
        elif cmd == "/forget":
            gone = m.forget(rest.strip()) if rest.strip() else []
            if gone:
                m.save()
            _out(f"(forgot {len(gone)} fact(s) about {rest.strip()})" if gone else "(no facts about that name)")
        else:
            _out(f"(unknown command {cmd}; {HELP})")
        return True
    back = withdrawals(line, m.cfg.user_name) if m.cfg.extractor == "rules" else []
    gone = m.withdraw(back)
    if gone:
        m.save()
        _out(f"(withdrew {len(gone)} fact(s): {'; '.join(f.statement for f in gone)})")
        return True
    facts = m.extract(line)
    if facts:
        try:
            n = wake(m, facts)
        except LogosError as e:
            _out(f"(could not remember that: {e})")
            return True
        if n:
            _out(f"(remembered {n} fact(s))")
            return True
    _out(m.ask(line))
    return True


def repl(m, stream, wake) -> int:
    if stream.isatty():
        print(f"logos chat ({len(m.ledger.entries)} facts). {HELP}", file=sys.stderr)
    for raw in stream:
        if not handle(m, raw, wake):
            break
    return 0
