"""The committed small-parameter notebooks that nbval runs must be the jupytext sources' code."""
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_ci_notebook_matches_source(src):
    ci = ROOT / "tests" / "notebooks" / f"{src.stem}.ipynb"
    assert ci.exists(), f"run `make nbval-refresh` to create {ci.relative_to(ROOT)}"
    want = [c.source for c in jupytext.read(src).cells if c.cell_type == "code"]
    got = [c.source for c in nbformat.read(ci, as_version=4).cells
           if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    assert got == want, f"{ci.name} is stale: run `make nbval-refresh`"
    assert (ROOT / "notebooks" / "params" / f"{src.stem}.ci.yml").exists()


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_notebook_has_parameters_and_checked_summary(src):
    nb = jupytext.read(src)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "parameters" in tags and "NBVAL_CHECK_OUTPUT" in tags
