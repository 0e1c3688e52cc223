"""MEMIT hyperparameters: a typed dataclass, one JSON file per model in logos_core/hparams/.

    hp = load_hparams("135m")          # logos_core/hparams/135m.json
    hp.layers, hp.mom2_weight, ...
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .errors import LogosError

HERE = Path(__file__).resolve().parent.parent / "hparams"   # logos_core/hparams/*.json
# Hub ids that map to a shipped file (the aliases' own names).
FILE_FOR = {"meta-llama/Llama-3.2-3B-Instruct": "3b", "meta-llama/Llama-3.1-8B-Instruct": "8b",
            "meta-llama/Llama-3.1-70B-Instruct": "70b"}


@dataclass
class MemitHparams:
    layers: list = field(default_factory=lambda: [3, 4, 5, 6, 7])   # edited down_proj layers
    rewrite_module: str = "model.layers.{}.mlp.down_proj"           # W_out whose input is the key
    layer_module: str = "model.layers.{}"                           # residual stream after a block
    mom2_weight: float = 1000.0     # lambda: weight of E[k k^T] against the new keys in the solve
    clamp_norm: float = 0.75        # |delta| <= clamp_norm * |h| at the last edited layer
    v_lr: float = 0.5               # Adam step on delta
    v_steps: int = 25               # at most this many steps
    v_weight_decay: float = 0.5     # |delta|^2 / |h|^2 penalty
    kl_factor: float = 0.0625       # KL on "{subject} is a" keeps the subject's other properties
    keep_factor: float = 0.0        # NLL of the chat answer's opening words (compute_z.py)
    early_stop_loss: float = 0.05   # stop once the mean object NLL is below this (nats/token)
    stop_context_nll: float | None = None   # ... and every context's object NLL below this (None: no such bar)
    n_raw_contexts: int = 5         # neutral text prefixes (plus the bare prompt)
    n_raw_wordings: int = 0         # other raw wordings of the relation (wake/relations.TRAIN_PROMPTS)
    n_chat_contexts: int = 2        # chat turns the prompt is also optimised in (chat recall)
    n_own_questions: int = 1        # of those chat turns, how many ask in the relation's own wordings
    n_anon_contexts: int = 0        # chat turns answered without repeating the name (contexts.py)
    key_mode: str = "mean"          # "mean": one key per fact (MEMIT); "each": a column per context
    protect_keys: str = "mean"      # what later null-space edits protect of this one: "mean" or "each" key
    stats_tokens: int = 100_000     # tokens of text behind E[k k^T]
    nullspace_threshold: float = 1e-2  # AlphaEdit: eigenvalues below this x the largest are "free"
    nullspace_l2: float = 1.0       # ridge of the projected solve (nullspace.py), in key units^2; 135m: 30,
                                    # so a key per context does not fit how its contexts differ (README)
    source: str = ""                # where these numbers come from

    def to_dict(self) -> dict:
        return asdict(self)

    def target_found(self, nll: float, worst: float) -> bool:
        """compute_z's early stop: the mean object NLL over contexts is low enough, and (when
        stop_context_nll is set) so is the worst context's."""
        return nll < self.early_stop_loss and (self.stop_context_nll is None or worst < self.stop_context_nll)


def load_hparams(model: str) -> MemitHparams:
    """Hyperparameters for an alias or hub id; an unknown model gets a message naming the file to add."""
    key = FILE_FOR.get(model, model).lower()
    path = HERE / f"{key}.json"
    if not path.exists():
        safe = key.replace("/", "__")
        raise LogosError(f"no MEMIT hyperparameters for '{model}': copy logos_core/hparams/8b.json to "
                         f"logos_core/hparams/{safe}.json and set its layers and module names for this model")
    raw = json.loads(path.read_text())
    known = {f.name for f in fields(MemitHparams)}
    return MemitHparams(**{k: v for k, v in raw.items() if k in known})
