"""Sleep consolidation into LoRA (peft), then fuse: the slow, "neocortical" memory of papers 1-6.

    examples = training_examples(lm.tok, facts)             # chat Q/A pairs, never the test wording
    log = consolidate(lm, facts, lr=1e-3, epochs=3)        # trains an adapter, fuses it into lm.model

Training questions are deliberately *not* the wordings recall is measured on (the fact's
chat_question and paraphrases): the original checked consolidation on its own training questions.
Loss is on the assistant's tokens only. Replay of the base model's own answers to unrelated
questions is mixed in (REPLAY) because without it SmolLM's general answers collapsed (FINDINGS.md).
"""
from __future__ import annotations

import math
import random
import time
import warnings
from dataclasses import dataclass, field

import torch

from .relations import train_questions

# Unrelated prompts whose base-model answers are replayed during training (not the locality set).
REPLAY_PROMPTS = [
    "Give me a tip for sleeping better.", "What is a good way to learn a new language?",
    "Write one sentence about the ocean.", "How do I boil an egg?", "What is photosynthesis?",
    "Name three fruits.", "Why is exercise healthy?", "What does a librarian do?",
    "Explain what a computer program is.", "How can I save money each month?",
    "What is the water cycle?", "Suggest a name for a cat.", "What is the opposite of cold?",
    "Describe a sunny day in one sentence.", "How many legs does a spider have?",
    "What is a verb?", "Give me a synonym for happy.", "What is gravity?",
    "Why do leaves change colour in autumn?", "What should I pack for a picnic?",
]


@dataclass
class LoraConfig:
    rank: int = 16
    alpha: int = 32
    lr: float = 1e-3
    epochs: int = 3
    batch_size: int = 8
    targets: tuple = ("gate_proj", "up_proj", "down_proj")
    replay: int = 8            # replayed base-model answers per consolidation (0 disables)
    seed: int = 0


@dataclass
class ConsolidationLog:
    start_loss: float = float("nan")     # mean loss over the first epoch's batches
    final_loss: float = float("nan")     # mean loss over the last epoch's batches
    epoch_losses: list = field(default_factory=list)
    n_examples: int = 0
    seconds: float = 0.0


def training_examples(facts: list, n_questions: int = 3) -> list:
    """(question, answer) pairs in chat form for each fact; answers are the person's own statement."""
    return [(q, f.statement) for f in facts for q in train_questions(f.subject, f.relation)[:n_questions]]


def replay_examples(lm, n: int, seed: int = 0) -> list:
    """The current model's own greedy answers to unrelated prompts: training on them anchors behaviour."""
    from .evaluate import ask_chat

    if n <= 0:
        return []
    prompts = random.Random(seed).sample(REPLAY_PROMPTS, min(n, len(REPLAY_PROMPTS)))
    return list(zip(prompts, [a.strip() for a in ask_chat(lm, prompts, max_new_tokens=40)]))


def _encode(tok, pairs: list) -> list:
    """Token ids and labels (-100 outside the assistant's answer) for each (question, answer)."""
    rows = []
    for q, a in pairs:
        prompt = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                         add_generation_prompt=True)
        full = tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                                       tokenize=False)
        p_ids = tok(prompt, add_special_tokens=False).input_ids
        f_ids = tok(full, add_special_tokens=False).input_ids
        labels = [-100] * len(p_ids) + f_ids[len(p_ids):]
        rows.append((f_ids, labels))
    return rows


def _batches(rows: list, batch_size: int, pad_id: int, rng: random.Random, device):
    rows = rows[:]
    rng.shuffle(rows)
    for b in range(0, len(rows), batch_size):
        chunk = rows[b:b + batch_size]
        L = max(len(r[0]) for r in chunk)
        ids = torch.full((len(chunk), L), pad_id, dtype=torch.long)
        lab = torch.full((len(chunk), L), -100, dtype=torch.long)
        att = torch.zeros((len(chunk), L), dtype=torch.long)
        for i, (x, y) in enumerate(chunk):  # right padding: training needs no generation
            ids[i, :len(x)], lab[i, :len(y)], att[i, :len(x)] = torch.tensor(x), torch.tensor(y), 1
        yield ids.to(device), att.to(device), lab.to(device)


def train_adapter(lm, pairs: list, cfg: LoraConfig, progress: bool = False):
    """Wrap lm.model in a fresh LoRA adapter and train it on `pairs`. Returns (peft_model, log)."""
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # peft calls a transformers API deprecated in v5; harmless
        warnings.simplefilter("ignore", FutureWarning)
        peft_model = get_peft_model(lm.model, PeftLoraConfig(
            r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=list(cfg.targets),
            task_type="CAUSAL_LM"))
    rows = _encode(lm.tok, pairs)
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=0.0)
    rng = random.Random(cfg.seed)
    log = ConsolidationLog(n_examples=len(rows))
    peft_model.train()
    n_steps = cfg.epochs * math.ceil(len(rows) / cfg.batch_size)
    bar = tqdm(total=n_steps, desc="consolidate", disable=not progress, leave=False)
    for _ in range(cfg.epochs):
        losses = []
        for ids, att, lab in _batches(rows, cfg.batch_size, lm.tok.pad_token_id, rng, lm.device):
            loss = peft_model(input_ids=ids, attention_mask=att, labels=lab).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            bar.update(1)
        log.epoch_losses.append(sum(losses) / len(losses))
    bar.close()
    peft_model.eval()
    log.start_loss, log.final_loss = log.epoch_losses[0], log.epoch_losses[-1]
    log.seconds = time.perf_counter() - t0
    return peft_model, log


def fuse(lm, peft_model) -> None:
    """Merge the adapter into the base weights (peft's merge_and_unload) and freeze again."""
    lm.model = peft_model.merge_and_unload()
    lm.model.eval()
    for p in lm.model.parameters():
        p.requires_grad_(False)


def consolidate(lm, facts: list, cfg: LoraConfig | None = None, progress: bool = False) -> ConsolidationLog:
    """One consolidation: train a LoRA adapter on the facts (plus replay), then fuse it into lm.model."""
    cfg = cfg or LoraConfig()
    pairs = training_examples(facts) + replay_examples(lm, cfg.replay, cfg.seed)
    peft_model, log = train_adapter(lm, pairs, cfg, progress)
    fuse(lm, peft_model)
    return log
