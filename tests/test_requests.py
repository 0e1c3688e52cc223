"""The field's benchmarks read into requests (every format, and one clear error for anything else), and
their teacher-forced scores on the bundled model: batched scores equal one-at-a-time ones, and a
null-space MEMIT edit of CounterFact records wins efficacy and is said by greedy generation."""
import json
from pathlib import Path

import pytest

from logos_core.base.errors import LogosError
from logos_core.base.hparams import load_hparams
from logos_core.lab.field import checkpoints, edit_and_score, unedited
from logos_core.measure import scores as S
from logos_core.measure.requests import load_cases
from logos_core.wake.contexts import Request
from logos_core.wake.stats import layer_stats

EXTERNAL = Path(__file__).resolve().parent.parent / "data" / "external"
CF, ZSRE = EXTERNAL / "counterfact_edit_dev.json", EXTERNAL / "zsre_dev.json"
# CounterFact's first record as its own file (kmeng01/rome, counterfact.json) publishes it, cut to
# one prompt of each list.
ROME_RECORD = {
    "case_id": 0, "pararel_idx": 2796,
    "requested_rewrite": {"prompt": "The mother tongue of {} is", "relation_id": "P103",
                          "target_new": {"str": "English", "id": "Q1860"},
                          "target_true": {"str": "French", "id": "Q150"}, "subject": "Danielle Darrieux"},
    "paraphrase_prompts": ["Shayna does this and Yossel goes still and dies. Danielle Darrieux, a native"],
    "neighborhood_prompts": ["The mother tongue of L\u00e9on Blum is"],
    "attribute_prompts": ["J.\u00a0R.\u00a0R. Tolkien is a native speaker of"],
    "generation_prompts": ["Danielle Darrieux's mother tongue is"],
}


def _write(tmp_path, recs, name="recs.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(recs))
    return p


def test_easyedit_counterfact_reads_into_the_machines_request():
    cases = load_cases(CF)
    assert len(cases) == 200 and {c.kind for c in cases} == {"counterfact"}
    c = cases[0]
    assert (c.fact.subject, c.fact.raw_prompt, c.fact.object, c.true) == (
        "Danielle Darrieux", "The mother tongue of Danielle Darrieux is", "English", "French")
    assert c.fact.statement == "The mother tongue of Danielle Darrieux is English."
    assert c.fact.chat_question == "Complete this sentence: The mother tongue of Danielle Darrieux is"
    assert c.paraphrases == ("Where Danielle Darrieux is from, people speak the language of",)
    assert c.neighbours == (("Michel Rocard is a native speaker of", "French"),)
    # wake writes at the statement up to the object: the record's own prompt
    assert Request.from_fact(c.fact).prompt == c.fact.raw_prompt
    assert all(c.fact.subject in c.fact.raw_prompt for c in cases)


def test_zsre_edits_towards_alt_and_asks_its_own_question():
    cases = load_cases(ZSRE)
    assert len(cases) == 56 and {c.kind for c in cases} == {"zsre"}
    c = cases[0]
    assert (c.fact.raw_prompt, c.fact.chat_question, c.fact.object, c.true) == (
        "What university did Watts Humphrey attend?", "What university did Watts Humphrey attend?",
        "University of Michigan", "Illinois Institute of Technology")
    assert c.paraphrases == ("What university did Watts Humphrey take part in?",)
    assert c.neighbours == (("nq question: who played desmond doss father in hacksaw ridge?", "Hugo Weaving"),)


def test_rome_records_and_easyedits_flattening_give_one_fact(tmp_path):
    rome, = load_cases(_write(tmp_path, [ROME_RECORD]))
    flat = load_cases(CF, 1)[0]
    assert rome.fact == flat.fact and rome.true == flat.true and rome.kind == "counterfact"
    assert rome.neighbours == (("The mother tongue of L\u00e9on Blum is", "French"),)
    # ROME's zsRE reader gives neighbours as {prompt, target} and a question as the prompt
    z = {"case_id": 3, "requested_rewrite": {"prompt": "Which river does {} flow into?", "subject": "the Mur",
                                             "target_new": {"str": "Drava"}, "target_true": {"str": "<|endoftext|>"}},
         "paraphrase_prompts": ["Into which river does the Mur flow?"],
         "neighborhood_prompts": [{"prompt": "nq question: who wrote hamlet?", "target": " Shakespeare"}]}
    zc, = load_cases(_write(tmp_path, [z], "z.json"))
    assert zc.kind == "zsre" and zc.fact.chat_question == "Which river does the Mur flow into?"
    assert zc.neighbours == (("nq question: who wrote hamlet?", " Shakespeare"),)


def test_jsonl_files_are_read_too(tmp_path):
    p = tmp_path / "recs.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in json.loads(ZSRE.read_text())[:3]))
    assert [c.fact for c in load_cases(p)] == [c.fact for c in load_cases(ZSRE, 3)]


@pytest.mark.parametrize("drop,fmt", [("alt", "zsre"), ("locality_ground_truth", "easyedit"),
                                      ("target_true", "rome")])
def test_a_missing_field_is_named(tmp_path, drop, fmt):
    rec = {"zsre": json.loads(ZSRE.read_text())[0], "easyedit": json.loads(CF.read_text())[0],
           "rome": json.loads(json.dumps(ROME_RECORD))}[fmt]
    del (rec["requested_rewrite"] if fmt == "rome" else rec)[drop]
    with pytest.raises(LogosError, match=f"record 0.*no field '{drop}'"):
        load_cases(_write(tmp_path, [rec]))


def test_other_files_get_one_clear_error(tmp_path):
    with pytest.raises(LogosError, match="not a record of a known format"):
        load_cases(_write(tmp_path, [{"question": "Who?", "answer": "Me"}]))
    with pytest.raises(LogosError, match="no file"):
        load_cases(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(LogosError, match="not JSON"):
        load_cases(bad)
    rec = dict(json.loads(CF.read_text())[0], subject="Someone Else")
    with pytest.raises(LogosError, match="subject 'Someone Else' is not in the prompt"):
        load_cases(_write(tmp_path, [rec]))


def test_checkpoints_end_at_n():
    assert checkpoints(100) == [10, 50, 100]
    assert checkpoints(37) == [10, 37]
    assert checkpoints(200) == [10, 50, 100, 200]


def test_batched_scores_equal_one_at_a_time(lm):
    """Right padding changes nothing before a row's end: batched and single rows score alike."""
    cases = load_cases(CF, 6)
    pairs = [(c.fact.raw_prompt, o) for c in cases for o in (c.fact.object, c.true)]
    together = S._target_stats(lm, pairs)
    alone = [S._target_stats(lm, [p])[0] for p in pairs]
    for (a, b), (c, d) in zip(together, alone):
        assert a == pytest.approx(c, abs=1e-4) and b == pytest.approx(d, abs=1e-6)


@pytest.mark.slow
def test_an_edit_wins_efficacy_and_is_said(lm):
    """Three CounterFact records written one at a time with null-space MEMIT: each new object now
    beats the true one on its own prompt (teacher-forced) and is what greedy completion says; every
    edit withdrawn, the scores are the unedited model's again."""
    hp = load_hparams("135m")
    stats = layer_stats(lm, hp, progress=False)
    cases = load_cases(CF, 3)
    base = unedited(lm, cases)
    assert base["scores"]["efficacy"] < 1.0, base["scores"]
    row, = edit_and_score(lm, hp, stats, cases, base, arm="nullspace", marks=(3,))
    print(row)
    assert row["edits"] == 3 and row["efficacy"] == 1.0, row
    assert row["raw"] >= 2 / 3, row["misses_raw"]
    assert abs(row["ppl_drift"]) <= 0.05, row
    after = S.teacher_forced(lm, cases)
    assert after == {k: base["scores"][k] for k in after}
