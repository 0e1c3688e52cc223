"""The tables in a notebook's "What we found" are its results JSON, rounded as printed.

A table is checked cell by cell against the committed `data/results/NN_*.json` it cites, so a rerun
that moves a number, or an edit of the prose alone, fails here until the two agree again.
"""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def found_tables(notebook: str) -> list:
    """Every markdown table after "## What we found" in a jupytext source: a list of row dicts each."""
    text = (ROOT / "notebooks" / f"{notebook}.py").read_text()
    lines = [ln[2:] if ln.startswith("# ") else "" for ln in text.split("## What we found", 1)[1].splitlines()]
    tables, cur = [], []
    for ln in lines + [""]:
        if ln.startswith("|"):
            cur.append([c.strip() for c in ln.strip().strip("|").split("|")])
        elif cur:
            head, rows = cur[0], [r for r in cur[1:] if not set("".join(r)) <= set("-: ")]
            tables.append([dict(zip(head, r)) for r in rows])
            cur = []
    return tables


def two(x) -> str:
    return f"{x:.2f}"


def pct(x) -> str:
    return "0.0%" if x == 0 else f"{x:+.1%}"


def whole(x) -> str:
    return f"{x:.0f}"


def results(name: str) -> dict:
    return json.loads((ROOT / "data" / "results" / f"{name}.json").read_text())["results"]


# column -> (key in the JSON row, how the prose prints it)
GRADUATED = {"stage 3": ("at_top", two), "chat": ("chat", two), "LoRA alone": ("lora_alone_chat", two),
             "raw": ("raw", two), "paraphrase": ("paraphrase", two), "locality": ("locality", two),
             "bleed": ("bleed", two), "drift": ("ppl_drift", pct), "starting loss": ("start_loss", two),
             "sleep s": ("sleep_seconds", whole)}
DUAL = {"chat": ("chat", two), "raw": ("raw", two), "paraphrase": ("paraphrase", two),
        "locality": ("locality", two), "bleed": ("bleed", two), "drift": ("ppl_drift", pct),
        "prompt tokens": ("prompt_tokens", whole), "answer s": ("answer_seconds", lambda x: f"{x:.1f}"),
        "wake s/fact": ("wake_seconds_per_fact", lambda x: f"{x:.2f}" if 0.005 <= x < 1 else f"{x:.0f}"),
        "bytes on disk": ("bytes_on_disk", lambda b: f"{b / 1e6:.2f} MB" if b < 1e7 else f"{b / 1e6:.1f} MB")}


def check(prose: list, rows: list, columns: dict) -> None:
    assert len(prose) == len(rows)
    for p, r in zip(prose, rows):
        for col, (key, fmt) in columns.items():
            assert p[col] == fmt(r[key]), f"{col} of {p}: the JSON says {fmt(r[key])}"


def graduated() -> tuple:
    """Notebook 06's table and the JSON rows of the memory size it reports (the largest run)."""
    (table,) = found_tables("06_graduated")
    cycles = results("06_graduated")["cycles"]
    size = max(r["n_facts"] for r in cycles)
    return table, [dict(r) for r in cycles if r["n_facts"] == size]


def test_graduated_table_is_its_json():
    table, rows = graduated()
    assert [p["cycle"] for p in table] == [str(r["cycle"]) for r in rows]
    check(table, rows, GRADUATED)


def test_dual_system_table_is_its_json():
    table = found_tables("03_dual_system")[0]          # the CPU run's; later tables cite other files
    rows = results("03_dual_system")["compare"]
    assert [p["after 3 nights"].split(" (")[0] for p in table] == [r["arm"] for r in rows]
    check(table, rows, DUAL)


def test_a_moved_number_fails():
    table, rows = graduated()
    rows[-1]["chat"] -= 0.1
    with pytest.raises(AssertionError, match="chat"):
        check(table, rows, GRADUATED)
