"""The first `logos remember` / `logos ask` round trip, in real subprocesses on the bundled model."""
import json
import os
import subprocess
import sys

from logos_core.memory.extract import extract


def logos(*args, env=None):
    # The first command on a cold cache converts the GGUF and computes the statistics: on a 2-core
    # machine shared with other jobs that took over 15 minutes.
    return subprocess.run([sys.executable, "-m", "logos_core.app.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=1800)


def test_extract_statements_not_questions():
    assert [(f.subject, f.relation, f.object) for f in extract("Aria Velkari lives in Tbilisi.")] == \
        [("Aria Velkari", "lives_in", "Tbilisi")]
    assert extract("Where does Aria live?") == [] and extract("Hello there, how are you?") == []
    two = extract("Dana works as a nurse. Dana's favourite colour is teal.")
    assert [f.relation for f in two] == ["works_as", "favourite_colour"]


def test_remember_then_ask_in_a_new_process(tmp_path):
    state = str(tmp_path / "mem")
    r = logos("remember", "Aria Velkari lives in Tbilisi.", "--state", state)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "remembered: Aria Velkari lives in Tbilisi."
    status = json.loads(logos("status", "--json", "--state", state).stdout)      # what scripts rely on
    assert [(f["subject"], f["relation"], f["object"], f["stage"], f["scale"]) for f in status["facts"]] == \
        [("Aria Velkari", "lives_in", "Tbilisi", 0, 1.0)]
    assert len(list((tmp_path / "mem" / "edits").glob("*.safetensors"))) == 1
    r = logos("ask", "Where does Aria Velkari live?", "--state", state)
    assert r.returncode == 0 and r.stdout.strip() and "\n" not in r.stdout.strip(), r   # only the answer
    print("answer:", r.stdout.strip())
    assert "Tbilisi" in r.stdout


def test_user_mistakes_get_one_line(tmp_path):
    r = logos("remember", "", "--state", str(tmp_path / "m"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "logos remember" in r.stderr
    r = logos("remember", "What is the weather like?", "--state", str(tmp_path / "m"))
    assert r.returncode == 0 and "no fact found" in r.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "ledger.json").write_text("{ truncated")
    r = logos("ask", "Where does Aria live?", "--state", str(tmp_path / "bad"))
    assert r.returncode == 2 and "damaged" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = logos("remember", "Aria lives in Lisbon.", "--4bit", "--state", str(tmp_path / "m4"))
    assert r.returncode == 2 and "--4bit" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = logos("bench", "--eval-facts", "0")
    assert r.returncode == 2 and "--eval-facts" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bench_prints_each_row_beside_the_floor():
    # the rows and the estimate, not their times (speed is the benchmark's to report, alone)
    r = logos("bench", "--json", "--wake-facts", "1", "--sleep-facts", "0", "--no-cli", "--stats-tokens", "2048",
              "--eval-facts", "5", "--probes", "10")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {"load", "floor", "eval", "locality", "ppl", "wake"} <= {x.get("key") for x in rows}
    by = {x.get("key"): x for x in rows}
    assert by["eval"]["facts"] == 5 and by["locality"]["probes"] == 10 and by["locality"]["of"] > 10
    assert all(x["seconds"] > 0 for x in rows if x.get("key") != "load")
    assert rows[-1]["step"].startswith("make reproduce") and set(rows[-1]) > {"step", "seconds"}
