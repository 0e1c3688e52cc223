"""The consolidation's LoRA settings: a plain dataclass, so the machine's config (memory/config.py)
and every command that only reads or writes edits can hold one without the training code.

    cfg = LoraConfig(lr=1e-3, epochs=4)     # consolidate.consolidate(lm, facts, cfg, anchors)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoraConfig:
    rank: int = 16
    alpha: int = 32
    lr: float = 1e-3
    epochs: int = 3
    batch_size: int = 8
    targets: tuple = ("gate_proj", "up_proj", "down_proj")
    layers: tuple | None = None   # transformer blocks that get an adapter (None: all)
    own_questions: int = 1     # per fact: training wordings of its relation (relations.py), plus 2 generic
    replay: int = 8            # replayed base-model answers per consolidation (0 disables)
    contrast: int = 1          # per fact: an unknown person asked the same question, the model's own answer
    namesakes: int = 0         # per fact: invented people sharing the told person's first name or surname,
                               # asked the same relation, answered as the birth model answered a stranger
    namesakes_cross: int = 0   # per fact: namesakes whose other name is another told person's ("Ulric
                               # Pellonne" and "Milo Draassa" told: "Ulric Draassa", "Milo Pellonne")
    contrast_every_epoch: bool = False   # contrast and namesake rows in every epoch beside the facts'
                               # own (False: drawn among the anchors, cfg.anchor_rows)
    raw_replay: int = 0        # raw-text knowledge prompts with the birth model's continuations (anchors)
    text_replay: int = 8       # chunks of ordinary text (language-model loss) against perplexity drift
    text_tokens: int = 96      # tokens per text chunk
    know_replay: int = 0       # knowledge answers (chat and raw) whose birth distribution is distilled (anchors)
    stop_loss: float = 0.0     # end training after an epoch whose facts' loss fell below this (0: never)
    anchor_rows: int = 0       # anchor rows (replay, contrast, raw, text, knowledge) drawn afresh for each
                               # epoch (0: every anchor row in every epoch)
    buckets: bool = False      # batches of rows of similar length (less padding), in random order
    seed: int = 0
