"""The committed small-parameter notebooks that nbval runs must be the jupytext sources' code and text."""
from pathlib import Path

import jupytext
import nbformat
import pytest
from sync_markdown import texts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_ci_notebook_matches_source(src):
    ci = ROOT / "tests" / "notebooks" / f"{src.stem}.ipynb"
    assert ci.exists(), f"run `make nbval-refresh` to create {ci.relative_to(ROOT)}"
    source, copy = jupytext.read(src), nbformat.read(ci, as_version=4)
    assert texts(copy, "code") == texts(source, "code"), f"{ci.name} is stale: run `make nbval-refresh`"
    # Prose the notebook's readers see in the CI copy too (a text-only change needs no rerun)
    assert texts(copy, "markdown") == texts(source, "markdown"), f"{ci.name}'s text is stale: run `make nbval-text`"
    assert (ROOT / "notebooks" / "params" / f"{src.stem}.ci.yml").exists()


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_notebook_has_parameters_and_checked_summary(src):
    nb = jupytext.read(src)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "parameters" in tags and "NBVAL_CHECK_OUTPUT" in tags
