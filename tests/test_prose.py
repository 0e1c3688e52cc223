"""The numbers in a notebook's "What we found" and the README's result tables are their results JSON, rounded as printed; each notebook's result is from one run of a clean commit, with its wall time stated.

A table is checked cell by cell against the committed `data/results/NN_*.json` it cites, so a rerun
that moves a number, or an edit of the prose alone, fails here until the two agree again.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def parse_tables(lines: list, notes: bool = False) -> list:
    """The markdown tables among `lines`, each a list of rows of cells (the separator row left out).
    Cells split at unescaped bars; with `notes`, a note in brackets after a value is dropped (the
    README's "0 (learns at night)" is the value 0)."""
    tables, cur = [], []
    for ln in lines + [""]:
        if ln.startswith("|"):
            row = [c.strip() for c in re.split(r"(?<!\\)\|", ln.strip().strip("|"))]
            if notes:
                row = [re.sub(r" \(.*\)$", "", c) for c in row]
            if not set("".join(row)) <= set("-: "):
                cur.append(row)
        elif cur:
            tables.append(cur)
            cur = []
    return tables


def found_tables(notebook: str) -> list:
    """Every markdown table after "## What we found" in a jupytext source: a list of row dicts each."""
    text = (ROOT / "notebooks" / f"{notebook}.py").read_text()
    lines = [ln[2:] if ln.startswith("# ") else "" for ln in text.split("## What we found", 1)[1].splitlines()]
    return [[dict(zip(t[0], r)) for r in t[1:]] for t in parse_tables(lines)]


def two(x) -> str:
    return f"{x:.2f}"


def pct(x) -> str:
    return "0.0%" if x == 0 else f"{x:+.1%}"


def whole(x) -> str:
    return f"{x:.0f}"


def payload(name: str) -> dict:
    """A committed results file, data/results/NAME.json: its params, results and provenance."""
    return json.loads((ROOT / "data" / "results" / f"{name}.json").read_text())


def results(name: str) -> dict:
    return payload(name)["results"]


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


def found_text(notebook: str) -> str:
    """The prose of a notebook's "What we found" (up to its first code cell), whitespace folded."""
    text = (ROOT / "notebooks" / f"{notebook}.py").read_text().split("## What we found", 1)[1].split("# %%", 1)[0]
    return " ".join(" ".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in text.splitlines()).split())


def arrows(xs) -> str:
    return " -> ".join(two(x) for x in xs)


def lora_sleep_sentences(r: dict, p: dict) -> list:
    final = r["cycles"][-1]
    low = next(s for s in r["lr_sweep"] if s["lr"] == 1e-4)
    return [f"chat recall {two(final['chat'])}, raw {two(final['raw'])} and held-out paraphrase "
            f"{two(final['paraphrase'])} on {p['N_FACTS']} facts after {final['cycle']} cycles",
            f"nothing was learnt in {p['SWEEP_CYCLES']} one-epoch cycles (chat {two(low['chat'])})",
            f"only {final['locality']:.0%} of the facts the model knew before are still answered "
            f"(locality {two(final['locality'])})",
            f"{final['bleed']:.0%} of never-told people", f"(bleed {two(final['bleed'])}:",
            f"held-out perplexity rose {final['ppl_drift']:.1%}"]


def two_phase_sentences(r: dict, p: dict) -> list:
    w, s, m = r["rows"]
    return [f"{p['N_FACTS']} facts, 2-core CPU): after",
            f"after wake raw {two(w['raw'])} / chat {two(w['chat'])}; after SWS (audit + refresh) raw "
            f"{two(s['raw'])} / chat {two(s['chat'])}; after REM (LoRA, gate, dissolve) raw {two(m['raw'])} / "
            f"chat {two(m['chat'])}, with {two(m['lora_alone_chat'])} of the facts recalled in chat from LoRA "
            f"alone; locality {two(m['locality'])}, drift {pct(m['ppl_drift'])}, bleed {two(m['bleed'])}"]


def convergence_sentences(r: dict, p: dict) -> list:
    plain, ns = r["capacity"]["plain"], r["capacity"]["null-space"]
    care, careless = r["convergence"]["audit + null-space refresh"], r["convergence"]["careless re-injection"]

    def curve(rows):
        return (f"raw {', '.join(two(x['raw']) for x in rows)} at {', '.join(str(x['n']) for x in rows)} facts "
                f"(chat {', '.join(two(x['chat']) for x in rows)}), |dW|/|W| {two(rows[0]['delta_norm'])} -> "
                f"{two(rows[-1]['delta_norm'])}")

    def refreshed(rows):
        return ", ".join(str(x["refreshed"]) for x in rows[1:])
    return [f"Plain sequential MEMIT: {curve(plain)}", f"The null-space arm: {curve(ns)}",
            f"{p['N_CONVERGE']} facts damaged by plain sequential MEMIT: raw {arrows(x['raw'] for x in care)} with "
            f"audit + null-space refresh (chat {arrows(x['chat'] for x in care)}; {refreshed(care)} facts refreshed)",
            f"locality {two(care[0]['locality'])} -> {two(care[-1]['locality'])}, perplexity drift "
            f"{pct(care[-1]['ppl_drift'])}, bleed {two(care[0]['bleed'])} -> {two(care[-1]['bleed'])}",
            f"raw {arrows(x['raw'] for x in careless)} over {p['CARELESS_CYCLES']} cycles (chat "
            f"{arrows(x['chat'] for x in careless)}; {refreshed(careless)} refreshed), locality "
            f"{two(careless[0]['locality'])} -> {two(careless[-1]['locality'])}, drift {pct(careless[0]['ppl_drift'])} -> "
            f"{pct(careless[-1]['ppl_drift'])}, bleed {two(careless[0]['bleed'])} -> {two(careless[-1]['bleed'])}, "
            f"|dW|/|W| {two(careless[-1]['delta_norm'])}"]


def alignment_tax_sentences(r: dict, p: dict) -> list:
    c = [x for x in r["rows"] if x["fusing"] == "cumulative"]
    n = [x for x in r["rows"] if x["fusing"] == "non-cumulative"]
    losses = lambda rows: " -> ".join(two(x["start_loss"]) for x in rows[1:])

    def both(key, fmt=two):
        return f"{fmt(c[-1][key])} / {fmt(n[-1][key])}"
    return [f"{p['N_FACTS']} facts, {p['CYCLES']} cycles per arm): chat recall {two(c[0]['chat'])} with the edits, "
            f"and {two(c[1]['lora_alone_chat'])} / {two(n[1]['lora_alone_chat'])} from LoRA alone after one pass",
            f"cumulative {losses(c)}, non-cumulative {losses(n)}",
            f"raw {both('raw')} (the facts", f"locality {both('locality')}", f"bleed {both('bleed')}",
            f"drift {both('ppl_drift', pct)}"]


SENTENCES = {"01_lora_sleep": lora_sleep_sentences, "02_alignment_tax": alignment_tax_sentences,
             "04_two_phase": two_phase_sentences, "05_convergence": convergence_sentences}


@pytest.mark.parametrize("notebook", sorted(SENTENCES))
def test_found_sentences_are_their_json(notebook):
    """Each number the prose states in a sentence, rebuilt from the JSON in the prose's own words."""
    data = payload(notebook)
    prose = found_text(notebook)
    missing = [s for s in SENTENCES[notebook](data["results"], data["params"]) if s not in prose]
    assert not missing, missing


NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_found_states_its_run_and_wall_time(notebook):
    """Each notebook's result comes from one run of a clean commit, and its prose says how long the
    run took (the sizes it ran at are stated beside it)."""
    prov = payload(notebook)["provenance"]
    assert prov["clean"] and prov["commit"], f"{notebook}.json is not from a clean commit"
    assert f"{prov['wall_seconds']:.0f} s on a 2-core CPU" in found_text(notebook)


def test_readme_states_the_run_of_every_notebook():
    """The README's account of `make reproduce` names the commit every notebook's result ran at and
    each notebook's wall time as its JSON records it."""
    text = " ".join((ROOT / "README.md").read_text().split("## Two commands", 1)[1].split("\n## ", 1)[0].split())
    provs = [payload(nb)["provenance"] for nb in NOTEBOOKS]
    assert len({p["commit"] for p in provs}) == 1, "the notebooks' results come from more than one commit"
    assert f"fresh clone of {provs[0]['commit'][:7]}" in text
    for nb, prov in zip(NOTEBOOKS, provs):
        assert f"{nb[:2]} {prov['wall_seconds']:.0f} s" in text, f"README: {nb} took {prov['wall_seconds']:.0f} s"


def test_a_moved_number_in_a_sentence_fails():
    data = payload("01_lora_sleep")
    data["results"]["cycles"][-1]["chat"] -= 0.1
    prose = found_text("01_lora_sleep")
    assert any(s not in prose for s in lora_sleep_sentences(data["results"], data["params"]))


def readme_tables(heading: str) -> list:
    """The markdown tables of the README section that starts with `heading`, as lists of cell rows."""
    text = (ROOT / "README.md").read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return parse_tables(text.splitlines(), notes=True)


def readme_table(heading: str, first: str) -> tuple:
    """The README table under `heading` whose header starts with `first`: its header and its rows as
    dicts keyed by the header."""
    table = next(t for t in readme_tables(heading) if t[0][0] == first)
    return table[0], [dict(zip(table[0], r)) for r in table[1:]]


def test_readme_capacity_table_is_its_json():
    head, plain, ns, norm = readme_tables("## Capacity and maintenance")[0]
    cap = results("05_convergence")["capacity"]
    ns_rows = {r["n"]: r for r in cap["null-space"]}
    plain_rows = {r["n"]: r for r in cap["plain"]}
    for col, n in enumerate(head[1:], 1):
        r = ns_rows[int(n)]
        assert ns[col] == f"{two(r['raw'])} / {two(r['chat'])}", n
        assert norm[col] == two(r["delta_norm"]), n
        p = plain_rows.get(int(n))
        assert plain[col] == (f"{two(p['raw'])} / {two(p['chat'])}" if p else ""), n


def test_readme_comparison_table_is_notebook_03s_json():
    head, rows = readme_table("## Sleep, measured", "after 3 nights")
    json_rows = results("03_dual_system")["compare"]
    assert [r["after 3 nights"] for r in rows] == [r["arm"] for r in json_rows]
    check(rows, json_rows, {k: v for k, v in DUAL.items() if k in head})


FIELD = {"efficacy": ("efficacy", two), "generalisation": ("generalisation", two),
         "specificity": ("specificity", two), "raw": ("raw", two), "chat": ("chat", two),
         "paraphrase": ("paraphrase", two), "drift": ("ppl_drift", pct),
         "s/edit": ("seconds_per_edit", lambda x: f"{x:.1f}")}


# Each README table of the field's benchmarks, by the first cell of its header, and its JSON.
FIELD_TABLES = {"counterfact_100_sequential": "CounterFact", "zsre_50_sequential": "zsRE",
                "counterfact_200_sequential": "CounterFact, 200 edits",
                "counterfact_100_logos": "CounterFact, Logos loop", "zsre_50_logos": "zsRE, Logos loop"}


@pytest.mark.parametrize("name", list(FIELD_TABLES))
def test_readme_field_tables_are_their_json(name):
    """The README's CounterFact and zsRE tables, row by row: the unedited model, then each arm's
    checkpoints (for the Logos loop: each phase, wake checkpoints then each sleep), as
    data/results/field_edits/NAME.json holds them."""
    res = results(f"field_edits/{name}")
    label, loop = FIELD_TABLES[name], name.endswith("_logos")
    _, rows = readme_table("## Against the field's benchmarks", label)
    assert rows[0][label] == "unedited"
    for col, (key, fmt) in FIELD.items():
        if col not in ("drift", "s/edit"):
            assert rows[0][col] == ("n/a" if res["unedited"][key] != res["unedited"][key] else two(res["unedited"][key]))
    body = [{k: (v if v == v else float("nan")) for k, v in r.items()} for r in res["rows"]]
    first = "phase" if loop else "arm"
    assert [(r[label], r["edits"]) for r in rows[1:]] == [(r[first], str(r["edits"])) for r in body]
    if loop:   # a sleep row says whether its cycle was rolled back
        assert [r["rolled back"] for r in rows[1:]] == [
            ("yes" if r["rolled_back"] else "no") if "rolled_back" in r else "" for r in body]
    check(rows[1:], body, {c: (k, lambda x, fmt=fmt: "n/a" if x != x else fmt(x)) for c, (k, fmt) in FIELD.items()})


LIFELONG = {"day": ("day", str), "facts": ("n_facts", str), "chat": ("chat", two), "chat strict": ("chat_strict", two),
            "confused": ("chat_confused", two), "raw": ("raw", two), "paraphrase": ("paraphrase", two),
            "held-out locality": ("locality_heldout", two), "tuning locality": ("locality", two),
            "bleed": ("bleed", two), "over unedited": ("bleed_excess", lambda x: f"{x:+.2f}"),
            "drift": ("ppl_drift", pct), "stage 3": ("at_top", two), "edits held": ("edits", str),
            "wake s/fact": ("wake_seconds_per_fact", lambda x: f"{x:.1f}"),
            "night s": ("sleep_seconds", whole), "rolled back": ("rolled_back", str)}


def test_readme_lifelong_table_is_its_json():
    """The README's lifelong table, night by night, as data/results/lifelong/lifelong_135m.json holds it."""
    head, rows = readme_table("## Memory that lasts", "day")
    body = results("lifelong/lifelong_135m")["rows"]
    check(rows, body, {c: kf for c, kf in LIFELONG.items() if c in head})


WAKE = {"raw": ("raw", two), "chat": ("chat", two), "paraphrase": ("paraphrase", two),
        "locality": ("locality", lambda x: f"{x:.3f}"), "bleed": ("bleed", two), "drift": ("ppl_drift", pct),
        "steps": ("steps", lambda x: f"{x:.1f}")}

# Each README table of wake on the report seeds, by the first cell of its header, and its JSON.
WAKE_TABLES = {"fresh_51_55": "seed", "fresh_51_55_raw3": "seed, two prefixes"}


@pytest.mark.parametrize("name", list(WAKE_TABLES))
def test_readme_wake_tables_are_their_json(name):
    """The README's wake tables on the report seeds, seed by seed and the mean, as
    data/results/wake_acceptance/NAME.json holds them."""
    res = results(f"wake_acceptance/{name}")
    label = WAKE_TABLES[name]
    _, rows = readme_table("## Wake: MEMIT", label)
    keys = [f"sequential_10_seed{r[label]}" if r[label] != "mean" else "sequential_10_mean" for r in rows]
    assert sorted(keys) == sorted(res), "one row a seed, and the mean"
    check(rows, [res[k] for k in keys], WAKE)


# The README's speed table, row by row: the start of each row's label -> the start of its line in a
# `logos bench` log (a pattern, where the log's own label differs across versions of the bench).
BENCH_ROWS = {"forward floor": r"floor: forward", "statistics": r"statistics", "**wake": r"wake: \d+ facts one at a time",
              "**one sleep cycle": r"sleep: one cycle", "greedy evaluation": r"evaluate", "locality": r"locality",
              "perplexity": r"perplexity", "`logos ask`": r"ask:", "`logos remember`": r"remember:",
              "`make reproduce": r"make reproduce"}


def bench_log(commit: str) -> dict:
    """A bench log's rows: label -> (seconds, x floor), x floor as the log prints it or, in logs
    without that column, seconds over the same run's floor."""
    rows = {}
    for ln in (ROOT / "data" / "results" / "bench" / f"cpu_sleep20_{commit}.log").read_text().splitlines():
        cells = re.split(r"\s{2,}", ln.strip())
        if len(cells) >= 2 and re.fullmatch(r"[\d.]+", cells[1]):
            xf = cells[2] if len(cells) > 2 and re.fullmatch(r"[\d.]+", cells[2]) else None
            rows[cells[0]] = (float(cells[1]), xf)
    floor = next(s for k, (s, _) in rows.items() if k.startswith("floor"))
    return {k: (two(s), xf or two(s / floor)) for k, (s, xf) in rows.items()}


def test_readme_speed_table_is_its_bench_logs():
    """The README's speed table, cell by cell: each commit's columns are its bench log
    (data/results/bench/cpu_sleep20_COMMIT.log), seconds and x floor as the log prints them."""
    table = next(t for t in readme_tables("## Sleep, measured") if t[0][0] == "step")
    head = table[0]
    commits = [h.split(",")[0] for h in head[1::2]]
    assert head[1:] == [f"{c}, {u}" for c in commits for u in ("s", "x floor")]
    logs = {c: bench_log(c) for c in commits}
    assert len(table) - 1 == len(BENCH_ROWS)
    for row in table[1:]:
        pattern = next(p for k, p in BENCH_ROWS.items() if row[0].startswith(k))
        for i, c in enumerate(commits):
            hit = [v for k, v in logs[c].items() if re.match(pattern, k)]
            secs, xf = (cell.strip("*") for cell in row[1 + 2 * i: 3 + 2 * i])
            if not hit:
                assert secs == xf == "", f"{row[0]}: no such row in the {c} log"
                continue
            (want,) = hit
            assert secs == want[0], f"{row[0]} at {c}: the log says {want[0]} s"
            # the reproduce estimate's x floor is left blank: a sum of notebooks over one forward pass says little
            assert xf == want[1] or (xf == "" and row[0].startswith("`make reproduce")), \
                f"{row[0]} at {c}: the log says {want[1]} x floor"


OPEN = {"after": ("after", str), "chat": ("chat", two), "raw": ("raw", two), "locality": ("locality", two),
        "bleed": ("bleed", two), "drift": ("ppl_drift", pct), "stage 3": ("at_top", two), "seconds": ("seconds", whole)}


OPEN_RUNS = {("development", "generic questions"): "open_relations/open_relations_135m_generic_questions",
             ("development", "generic + own words"): "open_relations/open_relations_135m",
             ("report", "generic + own words"): "open_relations/open_relations_135m_open_report"}


def test_readme_open_relations_table_is_its_json():
    """The README's open-relation table, each run's wake then each night, as its JSON under
    data/results/open_relations/ holds it."""
    _, rows = readme_table("## The `logos` command", "facts")
    assert {(r["facts"], r["trained on"]) for r in rows} == set(OPEN_RUNS)
    for (facts, trained), name in OPEN_RUNS.items():
        check([r for r in rows if (r["facts"], r["trained on"]) == (facts, trained)], results(name)["rows"], OPEN)


def test_readme_strangers_table_is_its_sweep_json():
    """README "How these settings were chosen": the strangers table is data/results/contrast_sweep/,
    the wake row and the five settings of seed100.json, then the three of seed100_cross.json."""
    first = results("contrast_sweep/seed100")["rows"]
    rows = first + [r for r in results("contrast_sweep/seed100_cross")["rows"] if r["setting"] != "after wake"]
    _, prose = readme_table("## How these settings were chosen", "strangers shown in the sleep")
    assert [p["strangers shown in the sleep"] for p in prose] == [r["setting"] for r in rows]
    check(prose, rows, {"chat": ("chat", two), "raw": ("raw", two), "paraphrase": ("paraphrase", two),
                        "locality": ("locality", two), "held-out locality": ("locality_heldout", two),
                        "bleed": ("bleed", two), "drift": ("ppl_drift", pct)})
    for p, r in zip(prose[1:], rows[1:]):
        assert p["sleep s"] == whole(r["sleep_seconds"])
    for name in ("contrast_sweep/seed100", "contrast_sweep/seed100_cross"):
        assert payload(name)["provenance"]["clean"]
