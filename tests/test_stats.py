"""Covariance statistics on a tiny random Llama: exact second moment, cache keys honoured."""
import dataclasses

import torch

from logos_core.base.hparams import MemitHparams
from logos_core.base.nethook import Trace
from logos_core.wake import stats as S


def test_second_moment_is_exact_and_cached(tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOS_CACHE", str(tmp_path))
    hp = dataclasses.replace(MemitHparams(), layers=[0, 1])
    text = " ".join(f"word{i} and some ordinary text number {i}." for i in range(400))
    n = 2 * S.SEQ_LEN
    C = S.layer_stats(tiny_lm, hp, text=text, n_tokens=n, progress=False)
    ids = tiny_lm.tok(text, return_tensors="pt", add_special_tokens=False).input_ids[0][:n].view(-1, S.SEQ_LEN)
    for layer in (0, 1):
        with Trace(tiny_lm.model, hp.rewrite_module.format(layer), capture_input=True) as t:
            tiny_lm.model(ids)
        k = t.input.reshape(-1, 64).double()
        ref = k.T @ k / k.shape[0]
        assert C[layer].shape == (64, 64)
        assert torch.allclose(C[layer], ref.float().double(), rtol=1e-5, atol=1e-8)
        assert not torch.allclose(ref, torch.diag(torch.diag(ref)))  # a full matrix, not a diagonal
    files = sorted(tmp_path.rglob("*.safetensors"))
    assert len(files) == 2
    mtimes = [f.stat().st_mtime_ns for f in files]
    S.layer_stats(tiny_lm, hp, text=text, n_tokens=n, progress=False)          # cache hit
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    S.layer_stats(tiny_lm, hp, text=text, n_tokens=S.SEQ_LEN, progress=False)  # other count: recomputed
    assert len(sorted(tmp_path.rglob("*.safetensors"))) == 4
    S.layer_stats(tiny_lm, hp, text=text + " more", n_tokens=n, progress=False)  # other corpus
    assert len(sorted(tmp_path.rglob("*.safetensors"))) == 6
