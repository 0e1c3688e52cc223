"""What each test file proves and what it cost in the last `make test`.

    python tests/costs.py [FOLDER]     (default: $LOGOS_CACHE/test-times, where `make test` leaves them)

Reads the JUnit XML that `make test` writes for each of its pytest and nbval runs and prints one row
per test file or notebook: its tests, its seconds (at one thread, beside the other job) and the first
line of what it proves (the module's docstring; for a notebook, its title).
"""
import ast
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_of(classname: str) -> Path:
    """pytest names a test module `tests.test_x` and an nbval notebook `tests.notebooks.05_convergence.ipynb`."""
    notebook = classname.endswith(".ipynb")
    stem = classname[:-len(".ipynb")] if notebook else classname
    return ROOT.joinpath(*stem.split(".")).with_suffix(".ipynb" if notebook else ".py")


def what_it_proves(path: Path) -> str:
    if path.suffix == ".py" and path.is_file():
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        return " ".join(doc.split("\n\n")[0].split()).split(". ")[0].rstrip(".")
    if path.suffix == ".ipynb" and path.is_file():
        cells = json.loads(path.read_text())["cells"]
        first = "".join(cells[0]["source"]).strip().splitlines() if cells else [""]
        return first[0].lstrip("# ").strip()
    return ""


def main(folder: Path) -> int:
    files = sorted(folder.glob("*.xml"))
    if not files:
        print(f"no test times in {folder}: run `make test` first", file=sys.stderr)
        return 2
    seconds, count = defaultdict(float), defaultdict(int)
    for f in files:
        for case in ET.parse(f).getroot().iter("testcase"):
            path = source_of(case.get("classname", ""))
            seconds[path] += float(case.get("time", 0))
            count[path] += 1
    print("| file | tests | seconds | what it proves |\n|---|---|---|---|")
    for path in sorted(seconds, key=seconds.get, reverse=True):
        print(f"| `{path.relative_to(ROOT)}` | {count[path]} | "
              f"{seconds[path]:.0f} | {what_it_proves(path)} |")
    print(f"| all | {sum(count.values())} | {sum(seconds.values()):.0f} | (two jobs side by side: the wall time is less) |")
    return 0


if __name__ == "__main__":
    default = Path(os.environ.get("LOGOS_CACHE", ROOT / ".cache")) / "test-times"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
