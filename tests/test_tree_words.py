"""The tree speaks only of the project: no file says how the work on it was organised (working
periods, trackers, borrowed machines). Pytest's own fixture scope and the corpus text are exempt."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# built from pieces so that this file does not match itself
WORDS = re.compile(r"\b(" + "|".join(["ses" + "sions?", "le" + "nt", "the is" + "sue", r"is" + r"sues? \d+",
                                       "ti" + "ckets?"]) + r")\b", re.IGNORECASE)
ALLOWED = [re.compile(r"""scope=["']ses""" + "sion" + """["']""")]
EXEMPT = ("data/corpus/",)


def _files() -> list:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):     # not a git checkout: every file but the usual
        out = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
               and not {".git", ".venv", ".cache", "__pycache__"} & set(p.parts)]
    return [f for f in out if f and not f.startswith(EXEMPT) and (ROOT / f).is_file()]


def test_no_file_tells_how_the_project_was_built():
    hits = []
    for f in _files():
        if "/" not in f and f.endswith(".egg-info"):
            continue
        try:
            text = (ROOT / f).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue                                       # figures and other binaries
        for n, line in enumerate(text.splitlines(), 1):
            if WORDS.search(line) and not any(a.search(line) for a in ALLOWED):
                hits.append(f"{f}:{n}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits[:40]) + (f"\n... {len(hits)} in all" if len(hits) > 40 else "")


def test_no_path_is_named_after_how_it_was_made():
    names = [f for f in _files() if WORDS.search(f.replace("_", " ").replace("/", " "))
             or re.search(r"ses" + r"sion\d|h200_run|_run/", f)]
    assert not names, names
