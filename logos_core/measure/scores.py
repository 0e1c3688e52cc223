"""The field's teacher-forced scores, as ROME, MEMIT and AlphaEdit compute them, beside our generated ones.

    tf = teacher_forced(lm, cases)   # {"efficacy", "generalisation", "specificity"} in [0, 1]
    gen = generated(lm, cases, base) # greedy recall of the new object: raw, chat, paraphrase; neighbours kept

CounterFact (Meng et al. 2022): a prompt counts when the model's mean per-token log-probability of
" " + new object after it beats that of " " + true object. Efficacy on the edit's own prompt,
generalisation on its paraphrases, specificity on the neighbours (other subjects that hold the true
object), where the true object must win. zsRE: token accuracy, the share of the answer's tokens that
are the argmax after the prompt and the answer's earlier tokens (efficacy, generalisation on the
rephrased question, specificity on the Natural Questions neighbour's own answer).

These read the model's probabilities with the answer given, so an edit can score here and still never
say the object: `generated` asks for it by greedy generation, the way the rest of the project
measures recall.
"""
from __future__ import annotations

import torch

from ..base.tokens import right_pad
from . import evaluate as E

BATCH = 32


@torch.no_grad()
def _target_stats(lm, pairs: list) -> list:
    """(mean log-probability, token accuracy) of each (prompt, target) pair: the target after a space,
    read token by token with the earlier target tokens given (teacher forcing)."""
    tok = lm.tok
    rows, spans = [], []
    for prompt, target in pairs:
        p = tok(prompt, add_special_tokens=False).input_ids
        t = tok(" " + target.strip(), add_special_tokens=False).input_ids
        rows.append(p + t)
        spans.append((len(p), len(t)))
    out = []
    for b in range(0, len(rows), BATCH):
        ids, att = right_pad(rows[b:b + BATCH], tok.pad_token_id, lm.device)
        logp = torch.log_softmax(lm.model(input_ids=ids, attention_mask=att).logits.float(), -1)
        for i, (n_p, n_t) in enumerate(spans[b:b + BATCH]):
            pos = torch.arange(n_p - 1, n_p + n_t - 1, device=ids.device)     # the logits that predict the target
            tgt = ids[i, n_p:n_p + n_t]
            lp = logp[i, pos].gather(-1, tgt[:, None]).squeeze(-1)
            acc = (logp[i, pos].argmax(-1) == tgt).float().mean()
            out.append((lp.mean().item(), acc.item()))
    return out


def _mean(xs: list) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def teacher_forced(lm, cases: list) -> dict:
    """The literature's efficacy, generalisation and specificity over `cases` (one kind at a time)."""
    kinds = {c.kind for c in cases}
    if len(kinds) != 1:
        raise ValueError(f"score one kind of case at a time, not {sorted(kinds)}")
    if kinds == {"zsre"}:
        eff = _target_stats(lm, [(c.fact.raw_prompt, c.fact.object) for c in cases])
        gen = _target_stats(lm, [(p, c.fact.object) for c in cases for p in c.paraphrases])
        spe = _target_stats(lm, [(p, a) for c in cases for p, a in c.neighbours])
        return {"efficacy": _mean([a for _, a in eff]), "generalisation": _mean([a for _, a in gen]),
                "specificity": _mean([a for _, a in spe])}

    def new_wins(prompts_objs: list) -> list:
        """Per (prompt, true): whether the new object's mean log-probability beats the true one's."""
        pairs = [(p, o) for p, c, t in prompts_objs for o in (c.fact.object, t)]
        st = _target_stats(lm, pairs)
        return [st[2 * i][0] > st[2 * i + 1][0] for i in range(len(prompts_objs))]

    eff = new_wins([(c.fact.raw_prompt, c, c.true) for c in cases])
    gen = new_wins([(p, c, c.true) for c in cases for p in c.paraphrases])
    spe = [not w for w in new_wins([(p, c, a) for c in cases for p, a in c.neighbours])]
    return {"efficacy": _mean(eff), "generalisation": _mean(gen), "specificity": _mean(spe)}


def neighbour_answers(lm, cases: list) -> list:
    """Greedy completions of every neighbour prompt, in order (taken once on the unedited model)."""
    return E.complete_raw(lm, [p for c in cases for p, _ in c.neighbours])


def generated(lm, cases: list, base_neighbours: list, now: list | None = None) -> dict:
    """Recall of the new object by greedy generation: raw completion of the prompt, the chat question,
    raw completion of each paraphrase; and of the neighbours the unedited model completed with their
    own answer (`base_neighbours`: neighbour_answers before any edit), the share it still does, and the
    share of all neighbours that now say the edit's new object. `now`: the neighbours' completions
    where they are already known (on the unedited model, `base_neighbours` themselves)."""
    facts = [c.fact for c in cases]
    raw = E.complete_raw(lm, [f.raw_prompt for f in facts])
    chat = E.ask_chat(lm, [f.chat_question for f in facts])
    para = [(c, p) for c in cases for p in c.paraphrases]
    para_ans = E.complete_raw(lm, [p for _, p in para])
    nbs = [(c, a) for c in cases for _, a in c.neighbours]
    now = neighbour_answers(lm, cases) if now is None else now
    known = [i for i, (_, a) in enumerate(nbs) if E.contains(base_neighbours[i], a)]
    return {"raw": _mean([E.contains(a, f.object) for a, f in zip(raw, facts)]),
            "chat": _mean([E.contains(a, f.object) for a, f in zip(chat, facts)]),
            "paraphrase": _mean([E.contains(a, c.fact.object) for a, (c, _) in zip(para_ans, para)]),
            "neighbours_kept": _mean([E.contains(now[i], nbs[i][1]) for i in known]),
            "neighbours_known": len(known),
            "neighbours_say_new": _mean([E.contains(a, c.fact.object) for a, (c, _) in zip(now, nbs)]),
            "misses_raw": [(f.raw_prompt, a) for a, f in zip(raw, facts) if not E.contains(a, f.object)][:20]}
