"""Run a notebook's py:percent source as a plain script with parameter overrides (no Jupyter needed).

    python benchmarks/run_notebook.py notebooks/05_convergence.py DEVICE='"cuda"' N_CAPACITY=150

For machines that have torch but not papermill (a bare GPU machine). Each override is a Python
expression assigned right after the cell tagged "parameters", exactly where papermill injects its own.
"""
import sys
from pathlib import Path

src_path, overrides = Path(sys.argv[1]), sys.argv[2:]
lines = src_path.read_text().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("# %%") and '"parameters"' in l)
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%"))
inject = [f"{o.split('=', 1)[0]} = {o.split('=', 1)[1]}" for o in overrides]
source = "\n".join(lines[:end] + ["# injected parameters"] + inject + lines[end:])
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
exec(compile(source, str(src_path), "exec"), {"__name__": "__main__"})
