"""Sleep consolidation into LoRA (peft), then fuse: the slow, "neocortical" memory of papers 1-6.

    log, adapter = consolidate(lm, facts, LoraConfig(), anchors)   # trains an adapter, fuses it into lm.model

Training questions are deliberately *not* the wordings recall is measured on (the fact's
chat_question and paraphrases): the original checked consolidation on its own training questions.
Loss is cross-entropy on the assistant's tokens of the facts' Q/A pairs, plus, from the anchors
(anchors.py; the model's behaviour at birth): replayed answers to unrelated prompts, answers about
invented people asked the same relations, and a top-k distillation loss on ordinary text and on the
birth model's answers to general-knowledge questions (what the locality probes ask of other subjects).
Without anchors (paper 1's LoRA-only notebook) the current model's own answers are replayed.
"""
from __future__ import annotations

import inspect
import math
import random
from collections import Counter
import time
import warnings
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from ..base.nethook import get_module
from ..base.tokens import IGNORE, encode_chat, encode_raw, right_pad
from ..measure.evaluate import ask_chat
from ..wake.relations import TRAIN_QUESTIONS, open_train_questions, train_questions
from .anchors import CONTRAST_PEOPLE, REPLAY_PROMPTS, merge_targets, pick_targets, text_chunks, text_targets
from .branch import fuse
from .lora import LoraConfig  # noqa: F401  (the settings train_adapter and consolidate take)


@dataclass
class ConsolidationLog:
    start_loss: float = float("nan")     # mean loss over the first epoch's batches
    final_loss: float = float("nan")     # mean loss over the last epoch's batches
    epoch_losses: list = field(default_factory=list)
    n_examples: int = 0
    seconds: float = 0.0


def contrast_examples(lm, facts: list, per_fact: int, seed: int = 0, anchors: dict | None = None) -> list:
    """(question about an invented person, the model's answer) for each fact's relation: from the
    anchors when given (the model at birth), else asked of the current model."""
    if per_fact <= 0 or not facts:
        return []
    rng = random.Random(seed)
    if anchors:
        by_rel: dict = {}
        for c in anchors["contrast"]:
            by_rel.setdefault(c["relation"], []).append((c["question"], c["answer"]))
        out = []
        for f in facts:
            pool = by_rel.get(f.relation) or by_rel.get("*", [])
            out += rng.sample(pool, min(per_fact, len(pool)))
        return out
    qs = [train_questions(rng.choice(CONTRAST_PEOPLE), f.relation)[0] for f in facts for _ in range(per_fact)]
    return list(zip(qs, [a.strip() for a in ask_chat(lm, qs, max_new_tokens=32)]))


def _stranger(question: str) -> str | None:
    """The invented person a contrast anchor's question asks about."""
    return next((p for p in CONTRAST_PEOPLE if p in question), None)


def namesake_examples(lm, facts: list, per_fact: int, seed: int = 0, anchors: dict | None = None,
                      cross: bool = False) -> list:
    """(question, answer) about people who share a told person's first name or surname but were told
    nothing ("Ulric Pellonne" told: "Kasimir Pellonne", "Ulric Quellby"), asked that fact's relation in
    a training wording. Without them the adapter can learn "a name like this one -> the told object";
    the nearest strangers are where that shows first. The answer is the birth model's answer about an
    invented stranger asked the same relation (the anchors), the stranger's name swapped for the
    namesake's; without anchors (or without one of that relation or a generic one) the current model is
    asked. With `cross` the other name comes from
    another told person (the strangers nearest to the told people), else from the invented strangers."""
    if per_fact <= 0 or not facts:
        return []
    rng = random.Random(seed + (11 if cross else 7))
    told = {f.subject for f in facts}
    names = [f.subject.split() for f in facts if len(f.subject.split()) > 1] if cross else []
    if len(names) < 2:
        names = [p.split() for p in CONTRAST_PEOPLE]
    firsts = [n[0] for n in names]
    lasts = [" ".join(n[1:]) for n in names]
    by_rel: dict = {}
    for c in (anchors or {}).get("contrast", []):
        who = _stranger(c["question"])
        if who:
            by_rel.setdefault(c["relation"], []).append((who, c["answer"]))
    qs, answers = [], []
    for f in facts:
        parts = f.subject.split()
        for i in range(per_fact):
            if len(parts) > 1 and i % 2:
                name = f"{rng.choice(firsts)} {' '.join(parts[1:])}"
            else:
                name = f"{parts[0]} {rng.choice(lasts)}"
            if name in told or name == f.subject:
                continue
            if f.relation in TRAIN_QUESTIONS:
                q = rng.choice(TRAIN_QUESTIONS[f.relation]).format(s=name)
            else:
                q = rng.choice(open_train_questions(name, f.raw_prompt.replace(f.subject, name)))
            pool = by_rel.get(f.relation) or by_rel.get("*")
            if pool:
                who, a = rng.choice(pool)
                answers.append(a.replace(who, name))
            else:
                answers.append(None)
            qs.append(q)
    ask = [q for q, a in zip(qs, answers) if a is None]
    if ask:
        asked = iter(a.strip() for a in ask_chat(lm, ask, max_new_tokens=32))
        answers = [a if a is not None else next(asked) for a in answers]
    return list(zip(qs, answers))


def training_examples(facts: list, own: int = 1, generic: int = 2) -> list:
    """(question, answer) pairs in chat form for each fact: `own` of its relation's training wordings
    and `generic` generic ones ("Tell me about X."), and for an open relation the wordings made from its
    raw prompt (relations.OPEN_TRAIN_QUESTIONS); answers are the person's own statement."""
    rows = [(q, f.statement) for f in facts for q in train_questions(f.subject, f.relation, own)[:own + generic]]
    return rows + [(q, f.statement) for f in facts if f.relation not in TRAIN_QUESTIONS
                   for q in open_train_questions(f.subject, f.raw_prompt)]


def replay_examples(lm, n: int, seed: int = 0, anchors: dict | None = None) -> list:
    """Greedy answers to unrelated prompts (the anchors' when given, else the current model's)."""
    if n <= 0:
        return []
    if anchors:
        pick = random.Random(seed).sample(anchors["replay"], min(n, len(anchors["replay"])))
        return [(r["question"], r["answer"]) for r in pick]
    prompts = random.Random(seed).sample(REPLAY_PROMPTS, min(n, len(REPLAY_PROMPTS)))
    return list(zip(prompts, [a.strip() for a in ask_chat(lm, prompts, max_new_tokens=40)]))


KL_HERE = -2   # label of text tokens: trained to keep the anchored next-token distribution


def _encode_text(text: dict | None) -> list:
    """Rows (ids, labels, index into the targets) for the distillation rows, each at its own length."""
    if not text:
        return []
    return [(ids[:n].tolist(), [KL_HERE] * int(n), i) for i, (ids, n) in enumerate(zip(text["ids"], text["lengths"]))]


def _batches(rows: list, batch_size: int, pad_id: int, rng: random.Random, device, buckets: bool = False,
             flags: list | None = None):
    """Shuffled batches (ids, att, labels, text rows [(row in batch, target index)], flags of the rows).
    With `buckets`, rows are grouped after the shuffle (ties stay shuffled) by whether they open
    with the chat template (then a batch shares that prefix, _logits_where) and by length, and the
    batches come in random order: a 15-token raw row no longer pads to a 96-token text chunk."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    if buckets:
        opening = Counter(tuple(r[0][:8]) for r in rows).most_common(1)[0][0] if rows else ()
        order.sort(key=lambda i: (tuple(rows[i][0][:8]) != opening, len(rows[i][0])))
    starts = list(range(0, len(order), batch_size))
    if buckets:
        rng.shuffle(starts)
    for b in starts:
        chunk = [rows[i] for i in order[b:b + batch_size]]
        ids, att = right_pad([r[0] for r in chunk], pad_id)       # right padding: training needs no generation
        lab, _ = right_pad([r[1] for r in chunk], IGNORE)
        text_rows = [(i, r[2]) for i, r in enumerate(chunk) if r[2] is not None]
        yield (ids.to(device), att.to(device), lab.to(device), text_rows,
               [flags[i] for i in order[b:b + batch_size]] if flags is not None else None)


def _shared_prefix(ids: torch.Tensor, att: torch.Tensor, need: torch.Tensor) -> int:
    """How many leading tokens every row of the batch shares (all real tokens, no loss read there):
    chat rows all open with the same system prompt and user header, a third of a fact's row."""
    same = (ids == ids[:1]).all(0) & att.bool().all(0)               # [L]
    n = int(same.long().cumprod(0).sum())
    while n > 0 and need[:, :n].any():                               # a loss read inside: keep it outside
        n -= 1
    return n if n >= 8 and n < ids.shape[1] else 0


def _logits_where(model, ids, att, need):
    """Logits [n, vocab] at the positions `need` [b, L-1] marks (row-major order), predicting the next
    token. Most positions of a batch carry no loss (the chat template, the question); projecting only
    the others onto the 49k-token vocabulary saved most of that projection and of the log-softmax
    after it. Models whose head does more than one linear map (a soft cap, a logit scale) get the
    full logits, then the same positions.

    A prefix every row shares (the chat template's opening) runs once, for one row, and its keys and
    values serve every row: causal attention makes those positions the same in each row, so the
    loss and its gradient are the same as running it in every row (the gradient through the shared
    keys and values sums over the rows, as it would)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    cfg = inner.config
    plain = all(getattr(cfg, a, None) in (None, 1.0) for a in ("final_logit_softcapping", "logit_scale"))
    body, head = getattr(inner, "base_model", None), inner.get_output_embeddings()
    if not plain or body is None or body is inner or head is None:
        return model(input_ids=ids, attention_mask=att).logits[:, :-1][need].float()
    n = _shared_prefix(ids, att, need)
    if n:
        pre = body(input_ids=ids[:1, :n], use_cache=True)
        cache = getattr(pre, "cache", None) or pre.past_key_values
        cache.batch_repeat_interleave(ids.shape[0])
        arg = "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"
        rest = body(input_ids=ids[:, n:], attention_mask=att, use_cache=True, **{arg: cache}).last_hidden_state
        return head(rest[:, :-1][need[:, n:]]).float()
    hidden = body(input_ids=ids, attention_mask=att).last_hidden_state[:, :-1]
    return head(hidden[need]).float()


def _step_loss(peft_model, ids, att, lab, text_rows, text, facts: list | None = None):
    """Cross-entropy on the answers' tokens + distillation on text rows: KL(anchored || model) over the
    anchored top-k tokens plus one bucket for the rest of the vocabulary, at every kept text position.
    Returns (loss, the cross-entropy of the rows `facts` marks, or of every labelled row without it).

    Distilling toward the anchored distribution, rather than training on the text itself, holds the
    model where it was: a language-model loss on similar text would *lower* held-out perplexity and
    hide the drift the guard is there to catch. The "rest" bucket keeps the KL honest: a loss over the
    top-k alone (renormalised) rewards piling all mass onto those k tokens, which raised perplexity.
    """
    tgt = lab[:, 1:]
    ce_mask = tgt >= 0
    need = ce_mask.clone()
    if text_rows:
        rows = torch.tensor([i for i, _ in text_rows], device=ids.device)
        which = [j for _, j in text_rows]
        P = min(tgt.shape[1], text["ids"].shape[1])   # every distilled row's kept positions lie below
        mask = text["mask"][which, :P].to(ids.device)                              # [r, P]
        need[rows[:, None], torch.arange(P, device=ids.device)] |= mask
    logits = _logits_where(peft_model, ids, att, need)                           # [n, vocab]
    at = torch.full(need.shape, -1, dtype=torch.long, device=ids.device)         # position -> row of logits
    at[need] = torch.arange(len(logits), device=ids.device)
    ce = torch.nn.functional.cross_entropy(logits[at[ce_mask]], tgt[ce_mask]) if ce_mask.any() else None
    loss = ce if ce is not None else logits.sum() * 0
    own = ce
    if facts is not None:    # the facts' own loss, for the log and the stop: no gradient of its own
        fm = ce_mask & torch.tensor(facts, device=ids.device)[:, None]
        with torch.no_grad():
            own = torch.nn.functional.cross_entropy(logits[at[fm]], tgt[fm]) if fm.any() else None
    if text_rows:
        r_i, p_i = mask.nonzero(as_tuple=True)                                   # kept positions
        top_ids = text["top_ids"][which, :P].to(ids.device)[r_i, p_i]            # [n_kept, k]
        ref = text["top_logp"][which, :P].to(ids.device)[r_i, p_i]               # [n_kept, k] log p_ref
        logp = torch.log_softmax(logits[at[rows[r_i], p_i]], -1).gather(-1, top_ids)   # log p_model
        eps = 1e-6
        ref_rest = torch.log1p(-ref.exp().sum(-1).clamp(max=1 - eps))              # [n_kept]
        cur_rest = torch.log1p(-logp.exp().sum(-1).clamp(max=1 - eps))
        kl = (ref.exp() * (ref - logp)).sum(-1) + ref_rest.exp() * (ref_rest - cur_rest)
        # each row's mean over its kept positions (a 10-token answer counts as much as a 96-token
        # chunk), then each source's mean: 270 knowledge answers must not outvote the text that
        # holds perplexity (one shared mean let drift go from +6% to +8%)
        per_row = torch.zeros(len(which), device=ids.device, dtype=kl.dtype).index_add_(0, r_i, kl)
        per_row = per_row / mask.sum(1).clamp(min=1)
        group = text["group"][which].to(ids.device)
        loss = loss + sum(per_row[group == g].mean() for g in group.unique())
    return loss, own


def train_adapter(lm, pairs: list, cfg: LoraConfig, progress: bool = False, text: dict | None = None,
                  raw_pairs: list = (), n_fact_pairs: int | None = None, n_kept: int | None = None):
    """Wrap lm.model in a fresh LoRA adapter and train it on chat `pairs` (loss on the answers) and
    the distillation `text` (anchors.text_targets). The first `n_fact_pairs` pairs are the facts' own
    (default: all): their loss is the log's. The first `n_kept` (default: n_fact_pairs) are in every
    epoch; cfg.anchor_rows samples among the other rows. Returns (peft_model, log)."""
    # peft is imported here, not at the top: `logos ask` and `logos remember` never train, and
    # importing it costs a new process about a second
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # peft calls a transformers API deprecated in v5; harmless
        warnings.simplefilter("ignore", FutureWarning)
        peft_model = get_peft_model(lm.model, PeftLoraConfig(
            r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=list(cfg.targets),
            layers_to_transform=list(cfg.layers) if cfg.layers else None,
            task_type="CAUSAL_LM"))
    n_facts = len(pairs) if n_fact_pairs is None else n_fact_pairs
    n_kept = n_facts if n_kept is None else n_kept
    rows = encode_chat(lm.tok, pairs) + encode_raw(lm.tok, list(raw_pairs)) + _encode_text(text)
    fact_rows, anchor_rows = rows[:n_kept], rows[n_kept:]
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=0.0)
    rng = random.Random(cfg.seed)
    per_epoch = min(cfg.anchor_rows, len(anchor_rows)) if cfg.anchor_rows > 0 else len(anchor_rows)
    log = ConsolidationLog(n_examples=len(fact_rows) + per_epoch)
    peft_model.train()
    n_steps = cfg.epochs * math.ceil((len(fact_rows) + per_epoch) / cfg.batch_size)
    bar = tqdm(total=n_steps, desc="consolidate", disable=not progress, leave=False)
    for _ in range(cfg.epochs):
        # a fresh sample of the anchors each epoch: over the epochs most of them are seen, at a
        # fraction of the rows per epoch
        epoch = fact_rows + (rng.sample(anchor_rows, per_epoch) if per_epoch < len(anchor_rows) else anchor_rows)
        flags = [True] * n_facts + [False] * (len(fact_rows) - n_facts + per_epoch)
        losses = []
        for ids, att, lab, text_rows, fl in _batches(epoch, cfg.batch_size, lm.tok.pad_token_id, rng, lm.device,
                                                     cfg.buckets, flags):
            loss, own = _step_loss(peft_model, ids, att, lab, text_rows, text, fl)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if own is not None:
                losses.append(own.item())  # the facts' own loss (the papers' "starting loss")
            bar.update(1)
        log.epoch_losses.append(sum(losses) / len(losses) if losses else float("nan"))
        if log.epoch_losses[-1] < cfg.stop_loss:   # learnt: more epochs only move the rest of the model
            break
    bar.close()
    peft_model.eval()
    log.start_loss, log.final_loss = log.epoch_losses[0], log.epoch_losses[-1]
    log.seconds = time.perf_counter() - t0
    return peft_model, log


def take_adapter(lm, peft_model) -> dict:
    """Lift the trained adapter out of the peft wrapper, leaving lm.model unmerged.

    Returns {module path: {"A": [r, d_in], "B": [d_out, r], "scaling": float}}, the form saved in a
    memory state (safetensors) and fused by `fuse`, so a reloaded state fuses the same numbers.
    """
    adapter = {}
    for name, mod in peft_model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            path = name.split("base_model.model.", 1)[-1]
            adapter[path] = {"A": mod.lora_A["default"].weight.detach().float().cpu().clone(),
                             "B": mod.lora_B["default"].weight.detach().float().cpu().clone(),
                             "scaling": float(mod.scaling["default"])}
    lm.model = peft_model.unload()
    lm.model.eval()
    for p in lm.model.parameters():
        p.requires_grad_(False)
    return adapter


def consolidate(lm, facts: list, cfg: LoraConfig | None = None, anchors: dict | None = None,
                progress: bool = False) -> tuple:
    """One consolidation: train a LoRA adapter on the facts (plus replay, contrast and distillation
    text, from `anchors` when given), then fuse it into lm.model. Returns (log, adapter)."""
    cfg = cfg or LoraConfig()
    own = training_examples(facts, cfg.own_questions)
    strangers = (contrast_examples(lm, facts, cfg.contrast, cfg.seed, anchors)
                 + namesake_examples(lm, facts, cfg.namesakes, cfg.seed, anchors)
                 + namesake_examples(lm, facts, cfg.namesakes_cross, cfg.seed, anchors, cross=True))
    kept = strangers if cfg.contrast_every_epoch else []
    pairs = own + kept + replay_examples(lm, cfg.replay, cfg.seed, anchors) + ([] if kept else strangers)
    text = None
    if cfg.text_replay > 0:
        if anchors:
            text = pick_targets(anchors["text"], cfg.text_replay, cfg.seed)
        else:
            text = text_targets(lm, text_chunks(lm.tok, cfg.text_replay, cfg.text_tokens, cfg.seed))
    if anchors and cfg.know_replay > 0 and anchors.get("know"):
        text = merge_targets(text, pick_targets(anchors["know"], cfg.know_replay, cfg.seed + 2))
    elif text is not None:
        text = merge_targets(text)   # adds the source tag _step_loss averages by (and the mask older anchors lack)
    raw_pairs = []
    if anchors and cfg.raw_replay > 0 and anchors.get("raw"):
        pick = random.Random(cfg.seed + 1).sample(anchors["raw"], min(cfg.raw_replay, len(anchors["raw"])))
        raw_pairs = [(r["prompt"], r["completion"]) for r in pick]
    peft_model, log = train_adapter(lm, pairs, cfg, progress, text, raw_pairs, n_fact_pairs=len(own),
                                    n_kept=len(own) + len(kept))
    adapter = take_adapter(lm, peft_model)
    fuse(lm.model, adapter)
    return log, adapter
