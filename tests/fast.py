"""A machine configuration small enough for tests on a 2-core CPU (the real bundled model, fewer steps).

Recall claims are tested at the model's default hyperparameters elsewhere (test_memit.py, the
notebooks); these settings exist to exercise saving, loading, locking and crashing quickly.
"""
from logos_core.memory.config import MachineConfig
from logos_core.sleep.consolidate import LoraConfig


def fast_config(**kw) -> MachineConfig:
    base = dict(hparams={"v_steps": 6, "n_raw_contexts": 1, "n_chat_contexts": 1, "n_raw_wordings": 0}, ppl_tokens=512,
                ppl_limit=None, anchor_replay=4, anchor_contrast=1, anchor_text=2, anchor_knowledge=10,
                lora=LoraConfig(lr=1e-3, epochs=1, replay=2, contrast=1, text_replay=2, know_replay=2))
    base.update(kw)
    return MachineConfig(**base)
