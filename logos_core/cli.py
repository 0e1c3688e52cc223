"""The `logos` command line. Every user mistake ends in one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import sys

from .errors import LogosError


def _bench(args) -> int:
    from .bench import print_table, run
    from .hparams import load_hparams
    from .models import load_model

    lm = load_model(args.model, device=args.device)
    rows = [{"step": f"load {args.model} ({'warm' if lm.cache_hit else 'cold'})", "seconds": lm.load_seconds}]
    rows += run(lm, hp=load_hparams(args.model), stats_tokens=args.stats_tokens)
    print_table(rows, args.json)
    return 0


def _remember(args) -> int:
    from .extract import extract
    from .state import MemoryState

    text = " ".join(args.text).strip()
    if not text:
        raise LogosError("nothing to remember: give a sentence, e.g. logos remember \"Aria lives in Lisbon.\"")
    facts = extract(text)
    if not facts:
        print("no fact found in that text (try a statement such as \"Aria lives in Lisbon.\")", file=sys.stderr)
        return 0
    st = MemoryState.open(args.state, args.model, args.device)
    try:
        st.remember(facts)
        st.save()
    finally:
        st.close()
    for f in facts:
        print(f"remembered: {f.statement}", file=sys.stderr)
    return 0


def _ask(args) -> int:
    from .evaluate import ask_chat
    from .state import MemoryState

    question = " ".join(args.question).strip()
    if not question:
        raise LogosError("no question given: e.g. logos ask \"Where does Aria live?\"")
    st = MemoryState.open(args.state, args.model, args.device, write=False)
    print(ask_chat(st.lm, [question], max_new_tokens=args.max_tokens)[0].strip())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="logos", description="Persistent memory in a language model's own weights.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp):
        sp.add_argument("--model", default="135m", help="alias (135m, 3b, 8b, 70b), Hugging Face id or local path")
        sp.add_argument("--device", default=None, help="cuda, mps or cpu (default: picked by itself)")

    def state(sp):
        from .state import default_state_dir

        sp.add_argument("--state", default=str(default_state_dir()), help="memory folder (default %(default)s)")

    r = sub.add_parser("remember", help="write the facts stated in TEXT into the model's weights (MEMIT)")
    common(r)
    state(r)
    r.add_argument("text", nargs="*", help='e.g. "Aria lives in Lisbon."')
    r.set_defaults(func=_remember)

    a = sub.add_parser("ask", help="ask a question in chat; prints only the answer")
    common(a)
    state(a)
    a.add_argument("question", nargs="*")
    a.add_argument("--max-tokens", type=int, default=48)
    a.set_defaults(func=_ask)

    b = sub.add_parser("bench", help="time each step beside the model's forward pass (the floor)")
    common(b)
    b.add_argument("--json", action="store_true", help="print the table as JSON")
    b.add_argument("--stats-tokens", type=int, default=20480, help="tokens for the statistics row")
    b.set_defaults(func=_bench)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except LogosError as e:
        print(f"logos: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("logos: interrupted; nothing already saved was lost", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
