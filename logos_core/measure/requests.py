"""The field's editing benchmarks read into the requests the machine writes.

    cases = load_cases("data/external/counterfact_edit_dev.json")    # list[Case], the format found by its fields
    cases[0].fact          # Fact: subject, the prompt (raw_prompt), the new object, a chat question
    cases[0].true          # the object the record says the model held before ("French")
    cases[0].paraphrases   # the same request in other words (generalisation)
    cases[0].neighbours    # (prompt, answer) about other subjects, each with its own truth (specificity)

Three formats, one reader each, chosen by the fields a record carries:

    rome         ROME/MEMIT records: {"requested_rewrite": {"prompt": "{} speaks", "subject",
                 "target_new": {"str"}, "target_true": {"str"}}, "paraphrase_prompts",
                 "neighborhood_prompts"} (CounterFact's own file; a neighbour is a prompt string, whose
                 truth is target_true, or {"prompt", "target"} as ROME's zsRE reader makes them)
    easyedit     EasyEdit's flattened CounterFact: prompt, subject, target_new, ground_truth,
                 rephrase_prompt, locality_prompt, locality_ground_truth
    zsre         MEND's zsRE eval records: subject, src, alt, rephrase, loc, loc_ans (answers, pred)

How each becomes a Fact: the prompt (the subject filled in) ends right before the object, so it is
the raw prompt and "prompt + object." the statement, which is what wake keys and targets its contexts
on (the relation is the prompt with the subject cut out: an open relation to the machine, with no
tuned wordings). The chat question is zsRE's own question; CounterFact has none, so it is the prompt
put as a request to finish the sentence ("Complete this sentence: The mother tongue of Danielle
Darrieux is"). zsRE's new object is `alt`, the answer MEND's split asks the edit for (EasyEdit reads
it so too; ROME's reader edits towards `answers[0]` instead). A record missing a field its format
needs is an error naming the record and the field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..base.errors import LogosError
from .facts import Fact

CHAT_FRAME = "Complete this sentence: {prompt}"


@dataclass(frozen=True)
class Case:
    fact: Fact
    true: str                 # the object before the edit ("" where the format names none)
    paraphrases: tuple        # the request in other words: raw prompts (CounterFact) or questions (zsRE)
    neighbours: tuple         # ((prompt, answer), ...): other subjects, their own truth
    kind: str                 # "counterfact" or "zsre": which teacher-forced scores the field reports
    case_id: str


def _need(rec: dict, where: str, *keys) -> list:
    missing = [k for k in keys if k not in rec]
    if missing:
        raise LogosError(f"{where}: no field {missing[0]!r}")
    return [rec[k] for k in keys]


def _fact(subject: str, prompt: str, new: str, where: str) -> Fact:
    """The request as the machine's Fact; a question (zsRE) is its own chat question, a sentence start
    (CounterFact) is asked to be completed."""
    if subject not in prompt:
        raise LogosError(f"{where}: the subject {subject!r} is not in the prompt {prompt!r}")
    prompt = prompt.rstrip()
    question = prompt if prompt.endswith("?") else CHAT_FRAME.format(prompt=prompt)
    return Fact(subject=subject, relation=prompt.replace(subject, "{}", 1), object=new.strip(),
                statement=f"{prompt} {new.strip()}.", raw_prompt=prompt, chat_question=question)


def _str(v):
    return v["str"] if isinstance(v, dict) else v


def from_rome(rec: dict, where: str) -> Case:
    rw, = _need(rec, where, "requested_rewrite")
    tmpl, subject, new, true = _need(rw, f"{where}.requested_rewrite", "prompt", "subject", "target_new",
                                     "target_true")
    prompt = tmpl.replace("{}", subject, 1)
    new, true = _str(new), _str(true)
    kind = "zsre" if prompt.rstrip().endswith("?") else "counterfact"
    nbs = []
    for n in rec.get("neighborhood_prompts", []):
        nbs.append((n["prompt"], n["target"]) if isinstance(n, dict) else (n, true))
    return Case(_fact(subject, prompt, new, where), true, tuple(rec.get("paraphrase_prompts", [])),
                tuple(nbs), kind, str(rec.get("case_id", where)))


def from_easyedit(rec: dict, where: str) -> Case:
    prompt, subject, new, true, para, loc, loc_ans = _need(
        rec, where, "prompt", "subject", "target_new", "ground_truth", "rephrase_prompt", "locality_prompt",
        "locality_ground_truth")
    return Case(_fact(subject, prompt, new, where), true, (para,),
                ((loc, loc_ans),), "counterfact", str(rec.get("case_id", where)))


def from_zsre(rec: dict, where: str) -> Case:
    subject, src, alt, para, loc, loc_ans = _need(rec, where, "subject", "src", "alt", "rephrase", "loc", "loc_ans")
    true = (rec.get("answers") or [""])[0]
    # The neighbour as ROME scores it: the Natural Questions prompt, a question mark, then its answer.
    return Case(_fact(subject, src, alt, where), true, (para,), ((loc + "?", loc_ans),), "zsre", where)


# The fields that tell the formats apart; the rest of each format's fields are then required by name.
FORMATS = {"rome": ("requested_rewrite",), "zsre": ("src",), "easyedit": ("prompt", "target_new")}
READERS = {"rome": from_rome, "easyedit": from_easyedit, "zsre": from_zsre}


def format_of(rec: dict, where: str) -> str:
    for name, keys in FORMATS.items():
        if all(k in rec for k in keys):
            return name
    raise LogosError(f"{where}: not a record of a known format (ROME/MEMIT records have 'requested_rewrite', "
                     f"zsRE's 'src', EasyEdit's CounterFact 'prompt' and 'target_new')")


def load_cases(path, n: int | None = None) -> list:
    """The first `n` records of a JSON list (or JSON lines) file as Cases, each read by its own format."""
    path = Path(path)
    if not path.is_file():
        raise LogosError(f"no file {path}: give a CounterFact or zsRE records file (JSON list)")
    text = path.read_text(encoding="utf-8")
    try:
        recs = json.loads(text)
    except json.JSONDecodeError:
        try:
            recs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise LogosError(f"{path}: not JSON ({e.msg}, line {e.lineno})") from None
    if isinstance(recs, dict):
        recs = [recs]
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise LogosError(f"{path}: expected a list of records (JSON objects)")
    out = []
    for i, rec in enumerate(recs[:n]):
        where = f"{path.name} record {i}"
        out.append(READERS[format_of(rec, where)](rec, where))
    return out
