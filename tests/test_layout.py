"""The package's layers, read from its own imports: each package imports only from the packages
below it (logos_core/__init__.py lists them), app and lab never from each other, every import of
logos_core sits at module level (none hidden in a function, but the one in DEFERRED), and no two
modules import each other."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "logos_core"
ORDER = ["base", "measure", "wake", "sleep", "memory"]   # then app and lab, side by side
TOP = {"app", "lab"}
# The one import made inside a function, and why: `logos ask` and `logos remember` run on the bundled
# model without transformers (memory/answer.py, app/remember.py: ~3 s less of every new process), so the
# command line imports the commands that need the full machine only once it knows it needs them.
DEFERRED = {("app.cli", "app.commands")}


def _rank(pkg: str) -> int:
    return len(ORDER) if pkg in TOP else ORDER.index(pkg)


def _modules() -> dict:
    """{"wake.memit": (ast tree, package)} for every module of every layer package."""
    out = {}
    for f in sorted(ROOT.glob("*/*.py")):
        out[f"{f.parent.name}.{f.stem}"] = (ast.parse(f.read_text()), f.parent.name)
    return out


def _targets(node: ast.ImportFrom, pkg: str) -> list:
    """The logos_core modules ("pkg.module") one relative import names."""
    if node.level == 1:
        base = pkg
    elif node.level == 2:
        base = None
    else:
        return []
    parts = (node.module or "").split(".") if node.module else []
    if base is None:                    # from ..wake.memit import x / from ..memory import state
        if len(parts) == 2:
            return [".".join(parts)]
        return [f"{parts[0]}.{a.name}" for a in node.names]
    if parts:                           # from .memit import x
        return [f"{base}.{parts[0]}"]
    return [f"{base}.{a.name}" for a in node.names]   # from . import state


def test_every_package_is_a_known_layer():
    pkgs = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert pkgs == set(ORDER) | TOP, pkgs
    assert not [f.name for f in ROOT.glob("*.py") if f.name != "__init__.py"], "modules belong in a layer package"


def test_imports_go_down_the_layers_at_module_level():
    mods = _modules()
    wrong = []
    for name, (tree, pkg) in mods.items():
        top = set(id(n) for n in tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.startswith("logos_core") for a in node.names):
                wrong.append(f"{name}: absolute import of logos_core")
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            for t in _targets(node, pkg):
                assert t in mods, f"{name} imports {t}, which does not exist"
                tpkg = t.split(".")[0]
                if id(node) not in top and (name, t) not in DEFERRED:
                    wrong.append(f"{name}: imports {t} inside a function")
                if tpkg != pkg and (_rank(tpkg) >= _rank(pkg)):
                    wrong.append(f"{name} ({pkg}) imports {t} ({tpkg}): not a lower layer")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    mods = _modules()
    edges = {name: set() for name in mods}
    for name, (tree, pkg) in mods.items():
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level:
                edges[name] |= set(_targets(node, pkg))
    for name, t in DEFERRED:                  # a deferred import still must not close a cycle
        edges[name].add(t)
    state = {}

    def visit(n, path):
        state[n] = "open"
        for m in edges[n]:
            assert state.get(m) != "open", "import cycle: " + " -> ".join(path + [m])
            if m not in state:
                visit(m, path + [m])
        state[n] = "done"

    for n in edges:
        if n not in state:
            visit(n, [n])
