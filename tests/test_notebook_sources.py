"""The committed small-parameter notebooks that nbval runs must be the jupytext sources' code and text,
every claim strict and holding in them, and nbval comparing their numbers."""
import configparser
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbval.plugin import metadata_tags
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
    # nbval reads its markers from tags in their lower-case, hyphenated form only ("NBVAL_CHECK_OUTPUT"
    # as a tag is silently ignored, and with it every comparison)
    assert "parameters" in tags and sum(metadata_tags.get(t) == "check" for t in tags) == 1


def checked_outputs(nb) -> str:
    return "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if "check" in (metadata_tags.get(t) for t in c.metadata.get("tags", []))
                   for o in c.get("outputs", []))


@pytest.mark.parametrize("src", SOURCES, ids=[s.stem for s in SOURCES])
def test_every_claim_is_strict_and_holds_at_ci_size(src):
    # A claim with strict=False prints FAIL and goes on, so CI would pass with the effect gone.
    assert "strict=False" not in src.read_text(), f"{src.name}: a claim is not strict"
    out = checked_outputs(nbformat.read(ROOT / "tests" / "notebooks" / f"{src.stem}.ipynb", as_version=4))
    assert "[PASS]" in out and "[FAIL]" not in out, f"{src.stem}: the checked cell expects a failed claim"


def test_nbval_masks_only_seconds():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    line = "chat recall 0.95, raw 0.60, locality 1.00, drift +13.3%, loss 2.23 -> 0.42 (84 s, 2.6 s)"

    def masked(text):
        for sec in cfg.sections():
            text = re.sub(cfg[sec]["regex"], cfg[sec]["replace"], text)
        return text
    assert masked(line) == "chat recall 0.95, raw 0.60, locality 1.00, drift +13.3%, loss 2.23 -> 0.42 (T s, T s)"
