"""Memory state on disk, on the real bundled model: a reloaded machine gives the same logits; damage
gives one-line errors and the previous state stays loadable; one writer at a time."""
import json

import pytest
import torch
from fast import fast_config

from logos_core.base.errors import LogosError
from logos_core.measure.facts import load_bank
from logos_core.memory.machine import LogosMachine
from logos_core.memory.state import recover


def _logits(m):
    ids = m.lm.tok("Greta Pellovic lives in the city of", return_tensors="pt").input_ids
    with torch.no_grad():
        return m.lm.model(ids.to(m.lm.device)).logits.float().cpu()


@pytest.fixture(scope="module")
def saved(tmp_path_factory, lm):
    path = tmp_path_factory.mktemp("state")
    m = LogosMachine.open(path, cfg=fast_config())
    facts = load_bank().sample(2, seed=3)
    m.inject(facts[:1])
    m.save()                                   # state 1: one fact
    m.inject(facts[1:])
    m.sleep(1)                                 # an adapter fused, scales per stage
    m.save()                                   # state 2: two facts, one adapter
    before = _logits(m)
    status = m.status()
    anchors = {g: dict(m.anchors[g]) for g in ("text", "know")}
    m.close()
    return path, before, status, anchors


def test_reload_gives_the_same_logits(saved):
    path, before, status, anchors = saved
    m = LogosMachine.open(path, write=False)
    assert m.status()["facts"] == status["facts"] and len(m.adapters) == 1
    for group, tensors in anchors.items():     # the birth distributions replayed in every later sleep
        assert set(m.anchors[group]) == set(tensors)
        assert all(torch.equal(m.anchors[group][k], v) for k, v in tensors.items()), group
    assert torch.allclose(_logits(m), before, atol=1e-5), (_logits(m) - before).abs().max()
    assert not list(path.rglob("*.pkl")) and not list(path.rglob("*.pt"))   # JSON and safetensors only
    # each edit is kept as its low-rank factors (rank: one per fact, or per context with key_mode
    # "each"), not as dense [576, 1536] float32 deltas (3.5 MB a layer, 17.7 MB for the five)
    sizes = [f.stat().st_size for f in (path / "edits").glob("*.safetensors")]
    assert sizes and max(sizes) < 0.05 * 5 * 576 * 1536 * 4, sizes


def test_one_writer_at_a_time(saved):
    path = saved[0]
    m = LogosMachine.open(path)
    try:
        with pytest.raises(LogosError, match="another logos process"):
            LogosMachine.open(path)
    finally:
        m.close()


def test_damaged_ledger_is_one_line_and_recoverable(saved, tmp_path):
    import shutil

    path = tmp_path / "copy"
    shutil.copytree(saved[0], path)
    good = (path / "ledger.json").read_text()
    (path / "ledger.json").write_text(good[: len(good) // 2])         # torn by something outside logos
    with pytest.raises(LogosError) as e:
        LogosMachine.open(path, write=False)
    assert "\n" not in str(e.value) and "logos recover" in str(e.value)
    recover(path)                                                      # the state before the last save
    m = LogosMachine.open(path, write=False)
    assert len(m.facts()) == 1 and not m.adapters


def test_damaged_edit_file_costs_only_its_fact(saved, tmp_path):
    import shutil

    path = tmp_path / "copy"
    shutil.copytree(saved[0], path)
    edit = json.loads((path / "ledger.json").read_text())["edits"][0]["id"]
    f = path / "edits" / f"{edit}.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    m = LogosMachine.open(path, write=False)        # the other fact and the adapter still load
    assert list(m.damaged) == [edit] and len(m.book.edits) == 1 and len(m.adapters) == 1
    with pytest.raises(LogosError) as e:              # a writer would drop it silently: refused
        LogosMachine.open(path)
    assert "\n" not in str(e.value) and "logos repair" in str(e.value)


def test_birth_anchors_are_cached_for_the_same_weights_only(tiny_lm, tmp_path, monkeypatch):
    """The anchor cache returns exactly what make_anchors made, and never serves other weights."""
    from logos_core.sleep import anchors as A
    from logos_core.sleep.anchor_files import ANCHOR_TENSORS

    monkeypatch.setenv("LOGOS_CACHE", str(tmp_path))
    made = []
    real = A.make_anchors
    monkeypatch.setattr(A, "make_anchors", lambda *a, **k: made.append(1) or real(*a, **k))
    kw = dict(n_replay=2, n_text=1, per_relation=1, n_knowledge=2)
    first = A.birth_anchors(tiny_lm, **kw)
    again = A.birth_anchors(tiny_lm, **kw)
    assert made == [1]
    for group, v in first.items():
        if group in ANCHOR_TENSORS:
            assert set(v) == set(again[group]) and all(torch.equal(t, again[group][k]) for k, t in v.items())
        else:
            assert again[group] == v
    A.birth_anchors(tiny_lm, **dict(kw, n_replay=3))          # other settings: made anew
    assert made == [1, 1]
    w = tiny_lm.model.model.layers[1].mlp.down_proj.weight
    with torch.no_grad():
        w.add_(torch.randn_like(w[:, :1]) @ torch.randn_like(w[:1, :]) * 1e-3)   # a rank-one edit
    A.birth_anchors(tiny_lm, **kw)
    assert made == [1, 1, 1]


def test_ask_without_transformers_gives_the_machines_answer(saved, tmp_path):
    """`logos ask` on the bundled model reads the state into base/llama.py (memory/answer.py): with the
    adapter fused and every edit at its scale, it answers token for token as the machine does."""
    import json as _json
    import subprocess
    import sys

    from logos_core.memory.answer import answer, quick_answer
    from logos_core.memory.store import Memory

    path = saved[0]
    m = LogosMachine.open(path, write=False)
    plain = Memory.open_plain(path, write=False)
    assert not plain.damaged and "transformers" not in type(plain.lm.model).__module__
    ids = plain.lm.tok("Greta Pellovic lives in the city of").input_ids
    with torch.no_grad():
        got = plain.lm.model(input_ids=torch.tensor([ids])).logits[0, -1]
    ref = _logits(m)[0, -1]
    assert (got - ref).abs().max() < 1e-3 * ref.abs().max()
    facts = m.facts()
    questions = [f.chat_question for f in facts] + [facts[0].paraphrases[0], "What is the capital of France?"]
    for q in questions:
        for one in (True, False):
            assert answer(plain.lm.model, plain.lm.tok, q, one_sentence=one) == m.ask(q, one_sentence=one), q
    # the command itself, in a new process: the same answer, and transformers never imported
    code = ("import sys; from logos_core.app.cli import main; "
            f"rc = main(['ask', {questions[0]!r}, '--state', {str(path)!r}]); "
            "print('transformers' in sys.modules, rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [m.ask(questions[0], one_sentence=True), "False 0"], out
    # a state of another model (or 4-bit) is left to the full machine
    other = tmp_path / "other"
    other.mkdir()
    d = _json.loads((path / "ledger.json").read_text())
    (other / "ledger.json").write_text(_json.dumps(dict(d, model="8b")))
    assert quick_answer(other, "Where?") is None
    (other / "ledger.json").write_text(_json.dumps(dict(d, four_bit=True)))
    assert quick_answer(other, "Where?") is None


def test_remember_without_transformers_writes_the_machines_edit(saved, tmp_path):
    """`logos remember` on a saved state of the bundled model writes on base/llama.py (app/remember.py):
    in a new process that never imports transformers, it writes the very edit the full machine writes
    for the same fact on the same state, bit for bit, and then answers as the machine does."""
    import shutil
    import subprocess
    import sys

    from safetensors.torch import load_file

    told = load_bank().sample(1, seed=5)[0]
    plain, full = tmp_path / "plain", tmp_path / "full"
    for p in (plain, full):
        shutil.copytree(saved[0], p)
    code = ("import sys; from logos_core.app.cli import main; "
            f"rc = main(['remember', {told.statement!r}, '--state', {str(plain)!r}]); "
            "print('transformers' in sys.modules, rc)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["False 0"], run.stdout + run.stderr
    assert f"remembered: {told.statement}" in run.stderr
    m = LogosMachine.open(full)
    m.wake(told.statement)
    m.save()
    m.close()
    a, b = json.loads((plain / "ledger.json").read_text()), json.loads((full / "ledger.json").read_text())
    assert [f["fact"] for f in a["ledger"]["facts"]] == [f["fact"] for f in b["ledger"]["facts"]]
    new_a, new_b = a["edits"][-1]["id"], b["edits"][-1]["id"]
    ta = load_file(str(plain / "edits" / f"{new_a}.safetensors"))
    tb = load_file(str(full / "edits" / f"{new_b}.safetensors"))
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    m = LogosMachine.open(plain, write=False)
    assert m.ask(told.chat_question) == LogosMachine.open(full, write=False).ask(told.chat_question)


def test_a_fact_taken_back_is_withdrawn(tmp_path, capsys):
    """"... no longer ..." withdraws the held fact: its edit goes (the model answers as before it was
    told), its history stays; a fact not held is said to be so, and nothing changes."""
    from logos_core.app import cli

    path = tmp_path / "s"
    m = LogosMachine.open(path, cfg=fast_config())
    m.save()
    q = "Where does Ilse Varnhagen live?"
    untold = m.ask(q)
    m.close()
    st = ["--state", str(path)]
    assert cli.main(["remember", "Ilse Varnhagen lives in Tromso.", *st]) == 0
    assert cli.main(["remember", "--dry-run", "Ilse Varnhagen no longer lives in Tromso.", *st]) == 0
    assert "withdraw: Ilse Varnhagen lives in Tromso." in capsys.readouterr().out
    assert cli.main(["remember", "Ilse Varnhagen no longer lives in Oslo.", *st]) == 0
    assert "not held" in capsys.readouterr().err and len(json.loads((path / "ledger.json").read_text())["edits"]) == 1
    assert cli.main(["remember", "Ilse Varnhagen no longer lives in Tromso.", *st]) == 0
    assert "withdrawn: Ilse Varnhagen lives in Tromso." in capsys.readouterr().err
    d = json.loads((path / "ledger.json").read_text())
    assert not d["ledger"]["facts"] and not d["edits"]
    assert [h["event"] for h in d["ledger"]["retired"][0]["history"]] == ["wake", "withdrawn"]
    assert LogosMachine.open(path, write=False).ask(q) == untold
