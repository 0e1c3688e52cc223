"""The machine's settings: what wake writes, what each sleep does, and the consolidation's LoRA.

    cfg = MachineConfig(wake_nullspace=True, ppl_limit=0.10, lora=LoraConfig(lr=1e-3, epochs=4))
    MachineConfig.from_dict(cfg.to_dict()) == cfg      # saved in every state's ledger.json

How the defaults were chosen, with the runs behind them, is in README.md ("How these settings were
chosen").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..sleep.lora import LoraConfig
from ..sleep.ledger import SCHEDULE


@dataclass
class MachineConfig:
    wake_edit: bool = True            # False: wake only notes the fact (LoRA-only memory, papers 1-3)
    wake_nullspace: bool = True       # wake edits leave ordinary keys and the held facts' keys alone
    refresh: bool = True              # sleep phase 1: re-write degraded facts
    refresh_projected: bool = True    # ... under the null-space projector (False: the original's way)
    consolidate: bool = True          # sleep phase 2: LoRA, gate, dissolve
    cumulative: bool = True           # each cycle's adapter trains on the already-fused model
    rehearse: int = 8                 # fully consolidated facts rehearsed in each consolidation
    schedule: tuple = SCHEDULE
    ppl_limit: float | None = 0.10    # roll a cycle back when held-out perplexity drifts past this
    ppl_tokens: int = 4096
    user_name: str | None = None      # who "I" / "my" is, for facts from conversation
    extractor: str = "rules"          # "rules" (extract.py) or "llm" (the model itself; larger models)
    hparams: dict = field(default_factory=dict)   # overrides of the model's MEMIT hyperparameters
    anchor_replay: int = 40           # anchors (sleep/anchors.py): unrelated prompts answered at birth
    anchor_knowledge: int = 135       # ... general-knowledge questions (not the locality probes)
    anchor_contrast: int = 4          # ... invented people per relation
    anchor_text: int = 16             # ... text chunks with their next-token distributions
    # three training wordings per relation, and the birth distribution of all 2 x 135 knowledge
    # answers distilled: the replay that held locality at 0.95 (README, "How these settings were chosen");
    # of those ~370 anchor rows a fresh 64 each epoch, in length buckets: a cycle of 20 facts trains
    # on 164 rows an epoch instead of 470
    lora: LoraConfig = field(default_factory=lambda: LoraConfig(lr=1e-3, epochs=4, own_questions=3, replay=32,
                                                                contrast=2, raw_replay=16, know_replay=270,
                                                                anchor_rows=64, buckets=True))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schedule"] = list(self.schedule)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MachineConfig":
        d = dict(d)
        lora = LoraConfig(**{k: (tuple(v) if k in ("targets", "layers") and v else v)
                             for k, v in d.pop("lora", {}).items()})
        d["schedule"] = tuple(d.get("schedule", SCHEDULE))
        known = set(cls.__dataclass_fields__)
        return cls(lora=lora, **{k: v for k, v in d.items() if k in known})
