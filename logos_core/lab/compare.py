"""Logos against the alternatives, on the same facts and the same measuring stick (notebook 03).

    m, ev = arm_machine("RAG", "135m", "auto", bank, ppl_tokens=4096)
    rows = day(m, facts, conversations=4, nights=3, ev=ev)       # experiments.day, any arm
    costs(m, facts)     # {"prompt_tokens": .., "answer_seconds": .., "bytes_on_disk": ..}

Every arm but retrieval is a LogosMachine with some phases switched off (MachineConfig), so the
arms differ only in what the paper compares.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..base.models import load_model
from ..measure.evaluate import CHAT_TOKENS, ask_chat, chat_prompts
from ..memory import state
from .experiments import evaluator, fresh_machine
from .retrieval import RetrievalMachine

ARMS = {
    "MEMIT only": dict(wake_nullspace=False, refresh=False, consolidate=False),   # sequential MEMIT, no sleep
    "null-space MEMIT": dict(consolidate=False),        # null-space wake; sleep = audit + projected refresh
    "LoRA only": dict(wake_edit=False, refresh=False),  # wake notes the facts; sleep = consolidation
    "Logos": dict(),                                    # wake edits; full sleep: refresh, consolidate, dissolve
    "RAG": None,                                        # retrieval.py: facts in a FAISS index, put in the prompt
}


def arm_machine(arm: str, model: str, device, bank, *, ppl_tokens: int = 4096, n_locality: int = 0,
                rag_k: int = 3, **machine_kw):
    """(machine, evaluator) for one arm, on a freshly loaded model. `machine_kw` goes to
    experiments.fresh_machine (hparams, lr, epochs, seed, lora, MachineConfig fields)."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")
    if ARMS[arm] is None:
        rag = RetrievalMachine(load_model(model, device=device), k=rag_k)
        return rag, evaluator(rag.lm, bank, ppl_tokens, n_locality)   # empty store: the plain model's baseline
    m, ev = fresh_machine(model, device, bank, ppl_tokens=ppl_tokens, n_locality=n_locality,
                          **{**machine_kw, **ARMS[arm]})
    # once-per-model work (covariance statistics, projectors, perplexity baseline) is done before the
    # day, so wake latency counts only what each fact costs
    m.ensure_baseline()
    if m.cfg.wake_edit:
        m.writer.stats()
        if m.cfg.wake_nullspace:
            m.writer.projectors()
    return m, ev


def bytes_on_disk(machine) -> int:
    """Size of the memory as saved (the base model's weights are not part of it)."""
    with tempfile.TemporaryDirectory() as d:
        if hasattr(machine, "book"):
            state.save_state(machine, Path(d))
        else:
            machine.save(d)
        return sum(f.stat().st_size for f in Path(d).rglob("*") if f.is_file())


def costs(machine, facts: list, n_timed: int = 5) -> dict:
    """Prompt tokens the model reads per chat answer (mean over the facts' questions), seconds per
    answer (questions asked one at a time, greedy, evaluate.CHAT_TOKENS new tokens), bytes on disk."""
    lm = machine.lm
    prompts = chat_prompts(lm, [f.chat_question for f in facts])
    tokens = [len(lm.tok(p, add_special_tokens=False).input_ids) for p in prompts]
    timed = facts[:n_timed]
    t0 = time.perf_counter()
    for f in timed:
        ask_chat(lm, [f.chat_question], max_new_tokens=CHAT_TOKENS)
    return {"prompt_tokens": sum(tokens) / len(tokens), "answer_seconds": (time.perf_counter() - t0) / len(timed),
            "bytes_on_disk": bytes_on_disk(machine)}
