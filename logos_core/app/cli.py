"""The `logos` command line. Every user mistake ends in one line on stderr and exit code 2.

    logos remember "Aria lives in Lisbon."      write what was said (MEMIT), saved fact by fact
    logos remember --dry-run [--json] TEXT      the facts that would be stored, nothing written
    logos ask "Where does Aria live?"           prints only the answer on stdout
    logos sleep --cycles 3                      audit, refresh, consolidate, gate, dissolve
    logos status [--json]                       the facts with their stage and scale
    logos recall [--json]                       measure recall of every stored fact now
    logos chat                                  a conversation (/sleep, /facts, /forget NAME, /quit)
    logos repair                                withdraw the facts whose edit files are damaged
    logos recover [--yes]                       go back to the state before the last save
    logos bench                                 time each step beside the forward pass
    logos warm                                  make the model's caches (weights, statistics, projectors)

All take --state DIR (default ~/.logos/default, or $LOGOS_STATE) and --model. Progress goes to stderr.

This module parses the line and imports only what `logos ask` and `logos remember` need on the
bundled model (memory/answer.py, remember.py: base/plain.py's model, no transformers, which cost
about 3 s of every new process); every other command, and an ask or remember those cannot serve,
runs from commands.py, imported once the command is known.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from ..base.errors import LogosError
from ..memory.answer import quick_answer
from ..memory.files import default_state_dir
from .remember import quick_remember


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="logos", description="Persistent memory in a language model's own weights.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, help_, with_state=True):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--model", default="135m", help="alias (135m, 3b, 8b, 70b), Hugging Face id or local path")
        sp.add_argument("--device", default=None, help="cuda, mps or cpu (default: picked by itself)")
        sp.add_argument("--4bit", dest="four_bit", action="store_true",
                        help="load NF4 through bitsandbytes (CUDA), edited down_proj layers kept in bf16")
        if with_state:
            sp.add_argument("--state", default=str(default_state_dir()), help="memory folder (default %(default)s)")
        return sp

    r = add("remember", "write the facts stated in TEXT into the model's weights (MEMIT)")
    r.add_argument("text", nargs="*", help='e.g. "Aria lives in Lisbon." ("-" reads standard input)')
    r.add_argument("--user", default=None, help="your name: then \"I live in Lisbon\" is a fact about you")
    r.add_argument("--dry-run", action="store_true", help="print the facts that would be stored; load no model, write nothing")
    r.add_argument("--json", action="store_true", help="with --dry-run: the facts as JSON")
    a = add("ask", "ask a question in chat; prints only the answer")
    a.add_argument("question", nargs="*")
    a.add_argument("--max-tokens", type=int, default=48)
    a.add_argument("--long", action="store_true",
                   help="let the answer run past its first sentence (up to --max-tokens)")
    s = add("sleep", "sleep: audit, refresh, consolidate into LoRA, dissolve the edits")
    s.add_argument("--cycles", type=int, default=1)
    st = add("status", "the stored facts with their stage and scale")
    st.add_argument("--json", action="store_true")
    rc = add("recall", "measure recall of every stored fact now (raw and chat)")
    rc.add_argument("--json", action="store_true")
    c = add("chat", "talk: statements are remembered, questions answered (/sleep /facts /forget /quit)")
    c.add_argument("--user", default=None, help="your name: then \"I live in Lisbon\" is a fact about you")
    add("repair", "withdraw the facts whose edit files are damaged (kept in the ledger's history)")
    rv = add("recover", "go back to the state before the last save (after a damaged ledger)")
    rv.add_argument("--yes", action="store_true", help="also when the current state is healthy (its last save is lost)")
    b = add("bench", "time each step beside the model's forward pass (the floor)", with_state=False)
    b.add_argument("--json", action="store_true", help="print the table as JSON")
    b.add_argument("--stats-tokens", type=int, default=20480, help="tokens for the statistics row")
    b.add_argument("--wake-facts", type=int, default=5, help="facts written one at a time for the wake row")
    b.add_argument("--sleep-facts", type=int, default=20,
                   help="facts held when one sleep cycle is timed (0: no sleep row)")
    b.add_argument("--no-cli", action="store_true", help="leave out the new-process rows (ask, remember)")
    b.add_argument("--eval-facts", type=int, default=100, help="bank facts asked for the recall row")
    b.add_argument("--probes", type=int, default=0, help="locality probes asked for its row (0: all)")
    add("warm", "make the model's caches once: weights, covariance statistics, null-space projectors",
        with_state=False)
    return p


def _quick_ask(args) -> bool:
    """Answer on the bundled model without loading transformers; False when that path does not apply."""
    question = " ".join(args.question).strip()
    if not question:
        raise LogosError("no question given: e.g. logos ask \"Where does Aria live?\"")
    if args.four_bit:
        return False
    got = quick_answer(Path(args.state).expanduser(), question, args.device, max_new_tokens=args.max_tokens,
                       one_sentence=not args.long)
    if got is None:
        return False
    text, damage = got
    if damage:
        print(f"logos: {damage}", file=sys.stderr)
    print(text)
    return True


ADVICE = {errno.ENOSPC: "the disk is full: free some space and run it again",
          errno.EDQUOT: "the disk quota is used up: free some space and run it again",
          errno.EROFS: "the file system is read-only: give a writable folder with --state",
          errno.EACCES: "permission denied: give a folder you can write with --state",
          errno.EPERM: "not permitted: give a folder you can write with --state",
          errno.ENOTDIR: "a file stands where a folder should be: give another --state folder",
          errno.EISDIR: "a folder stands where a file should be: give another --state folder"}


def os_error_line(e: OSError) -> str:
    """One line for a file-system failure: where, what, what to do. Every save is atomic (base/atomic.py),
    so the memory is still the one saved before."""
    where = f"{e.filename}: " if e.filename else ""
    advice = ADVICE.get(e.errno, f"{e.strerror or type(e).__name__}: check that path and run it again")
    return f"{where}{advice} (the memory is as it was after its last save)"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        if args.command == "ask" and _quick_ask(args):
            return 0
        if args.command == "remember":
            rc = quick_remember(args)
            if rc is not None:
                return rc
        from . import commands    # transformers and the whole machine: only for a command that needs them
        return commands.RUN[args.command](args)
    except LogosError as e:
        print(f"logos: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _closed()
    except OSError as e:
        print(f"logos: {os_error_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("logos: interrupted; everything saved before stays as it was", file=sys.stderr)
        return 130


def _closed() -> int:
    """`logos status | head -1`: the reader went away before the output was all written."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
    except OSError:
        pass
    print("logos: the output was closed before all of it was written (a pipe that ended early)", file=sys.stderr)
    return 2


def run() -> None:
    """The `logos` executable: main(), then out at once. Every file a command writes is complete and
    fsync'd before it returns, so the interpreter's own teardown (0.7 s with torch and transformers
    loaded, on this CPU) has nothing left to do for us."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed()
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
