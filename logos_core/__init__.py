"""Logos: persistent memory in a language model's own weights.

Packages by layer; each imports only from the layers above it in this list (tests/test_layout.py):

    base      the model and its plumbing: models, hparams, nethook, tokens, atomic writes, errors
    measure   the data and the measuring stick: facts (bank, locality, text), evaluate (greedy recall,
              locality, bleed, perplexity)
    wake      MEMIT, one file per step: contexts, compute_ks, compute_z (with resume, graphed_z), stats,
              nullspace, memit (the solve), edits (scaled edits), writer
    sleep     the ledger of stages, audit, refresh, anchors, consolidate (LoRA), branch, cycle
    memory    the machine: config, extract, machine (wake, ask, sleep), state (the folder on disk)
    app, lab  on top, side by side: the `logos` command (cli, chat, bench); the notebooks' protocols
              (experiments, compare, retrieval, report, plotting)

README.md maps each file to the equation it implements.
"""

__version__ = "0.1.0"
