"""The bundled model, its cache, the fact bank and the locality set, measured on the real model."""
import json

import pytest
import torch

from logos_core.base.errors import LogosError
from logos_core.base.models import bundled_gguf, load_model
from logos_core.measure import evaluate as E
from logos_core.measure.facts import load_locality


def test_cached_copy_gives_the_same_logits_as_the_gguf(lm):
    from transformers import AutoModelForCausalLM

    g = bundled_gguf()
    ref = AutoModelForCausalLM.from_pretrained(g.parent, gguf_file=g.name, dtype=torch.float32).eval()
    ids = lm.tok("The capital of France is Paris, and the capital of Italy is", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.equal(ref(ids).logits, lm.model(ids).logits)
    assert lm.cache_hit or lm.load_seconds > 0


def test_missing_model_is_one_clear_error():
    with pytest.raises(LogosError, match="HF_TOKEN"):
        load_model("/nonexistent/model/folder")


def test_bank_shape(bank):
    assert len(bank.facts) >= 500
    assert len({f.relation for f in bank.facts}) >= 10
    assert len({f.subject for f in bank.facts}) == len(bank.facts)
    for f in bank.facts:
        assert f.object in f.statement and f.subject in f.raw_prompt and len(f.paraphrases) >= 2
        assert f.chat_question not in f.paraphrases
    assert not set(bank.bystanders) & {f.subject for f in bank.facts}


def test_unedited_model_does_not_know_the_bank(lm, bank):
    """Baseline recall must be under 5% (measured here on a seeded sample of 120 facts)."""
    facts = bank.sample(120, seed=123)
    r = E.recall(lm, facts, modes=("raw", "chat"))
    assert r["raw"] < 0.05 and r["chat"] < 0.05, (r["raw"], r["chat"])


def test_locality_set_is_known_by_the_unedited_model(lm):
    probes = load_locality()
    assert len(probes) >= 100
    sample = probes[::4]
    loc = E.locality(lm, sample)
    assert loc["both"] == 1.0, [p.chat_question for p, r, c in zip(sample, loc["raw_hits"], loc["chat_hits"])
                                if not (r and c)]


def test_batched_generation_answers_as_each_prompt_alone(lm, bank):
    """evaluate.generate runs a batch's shared leading tokens (the chat template) once and pads each
    row's own tokens after them: every answer must be the one plain greedy generation gives that
    prompt alone, unpadded and uncached (chat and raw prompts of mixed lengths)."""
    facts = bank.sample(6, seed=5)
    probes = load_locality()[::19]
    chat = E.chat_prompts(lm, [f.chat_question for f in facts] + [p.chat_question for p in probes])
    raw = [f.raw_prompt for f in facts] + [p.raw_prompt for p in probes]

    def alone(prompt, n):
        ids = lm.tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.no_grad():
            out = lm.model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=lm.tok.pad_token_id,
                                    temperature=None, top_p=None, top_k=None)
        return lm.tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)

    assert E.generate(lm, chat, E.CHAT_TOKENS) == [alone(p, E.CHAT_TOKENS) for p in chat]
    assert E.generate(lm, raw, E.RAW_TOKENS) == [alone(p, E.RAW_TOKENS) for p in raw]
    shared = E._shared_prefix(lm, [lm.tok(p, add_special_tokens=False).input_ids for p in chat])[2]
    assert shared is not None and shared.get_seq_length() >= 20   # the template's system turn ran once


def test_a_later_arm_reads_the_baseline_it_would_have_measured(bank):
    """lab.experiments.fresh_machine measures the unedited model's baseline once a process: a second
    arm's copy equals what measuring its own freshly loaded model gives, and is its own copy."""
    from logos_core.lab.experiments import fresh_machine

    _, first = fresh_machine("135m", "cpu", bank, ppl_tokens=512, n_locality=12)
    _, second = fresh_machine("135m", "cpu", bank, ppl_tokens=512, n_locality=12)
    assert second.base == first.base and second.base is not first.base
    read = second.base
    assert second.baseline() == read


def test_heldout_text_is_long_enough(lm):
    from logos_core.measure.facts import heldout_text

    assert len(lm.tok(heldout_text()).input_ids) >= 20_000


def test_a_result_from_a_changed_tree_does_not_pass_for_its_commit(tmp_path):
    """report.tree_state on a real git checkout: the commit is recorded only when the tree is that
    commit; what a run writes (results, figures) is not a change."""
    import subprocess

    from logos_core.lab.report import tree_state

    def git(*a):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a], cwd=tmp_path, check=True,
                       capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "data" / "results").mkdir(parents=True)
    git("add", "-A")
    git("commit", "-qm", "one")
    st = tree_state(tmp_path)
    assert st["clean"] and st["commit"] == st["based_on"] and len(st["commit"]) == 40
    (tmp_path / "data" / "results" / "01_x.json").write_text("{}")      # the run's own output
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "01_x.png").write_bytes(b"png")
    assert tree_state(tmp_path)["clean"]
    (tmp_path / "code.py").write_text("x = 2\n")
    (tmp_path / "new.py").write_text("")
    st = tree_state(tmp_path)
    assert not st["clean"] and st["commit"] is None and st["changed"] == ["code.py", "new.py"]
    assert tree_state(tmp_path / "code.py.d")["commit"] is None     # not a checkout at all
