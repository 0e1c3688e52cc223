"""The `logos` command line. Every user mistake ends in one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import sys

from .errors import LogosError


def _bench(args) -> int:
    from .bench import print_table, run
    from .models import load_model

    lm = load_model(args.model, device=args.device)
    rows = [{"step": f"load {args.model} ({'warm' if lm.cache_hit else 'cold'})", "seconds": lm.load_seconds}]
    rows += run(lm)
    print_table(rows, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="logos", description="Persistent memory in a language model's own weights.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def common(sp):
        sp.add_argument("--model", default="135m", help="alias (135m, 3b, 8b, 70b), Hugging Face id or local path")
        sp.add_argument("--device", default=None, help="cuda, mps or cpu (default: picked by itself)")

    b = sub.add_parser("bench", help="time each step beside the model's forward pass (the floor)")
    common(b)
    b.add_argument("--json", action="store_true", help="print the table as JSON")
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
