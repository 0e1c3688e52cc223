"""Logos: persistent memory in a language model's own weights.

Exports, one module per step of the method (see README.md for the equation each implements):

    models      load a causal LM (bundled SmolLM2-135M-Instruct by default) with a warm cache
    facts       the fact bank, the locality set and the held-out text
    evaluate    the measuring stick: greedy recall (raw, chat, paraphrase), locality, bleed, perplexity
    stats       second moment E[k k^T] of MLP down-projection inputs over ordinary text
    compute_ks  MEMIT keys: subject-last-token inputs to down_proj, per context or averaged over contexts
    compute_z   MEMIT target vectors: residual-stream delta found by Adam
    memit       the least-squares weight update, solved in float64
    edits       an edit as an object: per-layer deltas with a settable scale
    consolidate LoRA training on chat Q/A pairs and fusing (peft)
    plotting    every figure, drawn from data/results/*.json alone
"""

__version__ = "0.1.0"
