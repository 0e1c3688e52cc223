"""Shared fixtures. The bundled model is loaded once per test run (from the warm cache)."""
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("LOGOS_CACHE", str(Path(__file__).resolve().parent.parent / ".cache"))


@pytest.fixture(scope="session")
def lm():
    from logos_core.base.models import load_model

    return load_model("135m")


@pytest.fixture(scope="session")
def bank():
    from logos_core.measure.facts import load_bank

    return load_bank()


@pytest.fixture()
def tiny_lm(lm):
    """A 2-layer Llama with random weights and the bundled tokenizer: for pure math only."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from logos_core.base.models import LoadedModel

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(lm.tok), hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    model = LlamaForCausalLM(cfg).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, lm.tok, "tiny", "random", "tiny-random-0", "cpu", 0.0, True)
