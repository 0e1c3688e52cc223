"""Copy each jupytext source's markdown into its committed small-parameter notebook, in place.

Markdown is text only: it changes no output, so a notebook whose prose was edited needs no rerun (the
rerun, `make nbval-refresh`, takes minutes per notebook). Code changes still do: this refuses a
notebook whose code cells differ from its source.

    python tests/sync_markdown.py [NN_name ...]     # default: every notebook
"""
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent


def cells(nb, kind: str) -> list:
    """The cells of one kind, less papermill's injected parameters (the CI copy has them, the source not)."""
    return [c for c in nb.cells if c.cell_type == kind and "injected-parameters" not in c.metadata.get("tags", [])]


def texts(nb, kind: str) -> list:
    return [c.source for c in cells(nb, kind)]


def sync(src: Path) -> bool:
    """True when the CI copy's markdown was rewritten."""
    ci = ROOT / "tests" / "notebooks" / f"{src.stem}.ipynb"
    want, nb = jupytext.read(src), nbformat.read(ci, as_version=4)
    if texts(want, "code") != texts(nb, "code"):
        raise SystemExit(f"{ci.name}: its code differs from {src.name}; run `make nbval-refresh` instead")
    new, old = cells(want, "markdown"), cells(nb, "markdown")
    if len(new) != len(old):
        raise SystemExit(f"{ci.name}: markdown cells were added or removed; run `make nbval-refresh` instead")
    changed = False
    for n, o in zip(new, old):
        if o.source != n.source:
            o.source, changed = n.source, True
    if changed:
        nbformat.write(nb, ci)
    return changed


if __name__ == "__main__":
    names = sys.argv[1:] or [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))]
    for name in names:
        print(name, "updated" if sync(ROOT / "notebooks" / f"{name}.py") else "already current")
