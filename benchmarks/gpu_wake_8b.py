"""One wake edit on a Llama-3.1-8B-shaped model with random bf16 weights (speed and memory only).

    python benchmarks/gpu_wake_8b.py --tokenizer DIR [--tiny]

Weight values do not change speed or memory, so random weights stand in for the real 8B (which cannot
be carried to the GPU machine). Prints a table: forward floor, statistics pass, target optimisation
(compute_z), keys + solves, whole edit, peak GPU memory. `--tiny` runs a small shape on the CPU to
check the script before spending GPU time.
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from logos_core.contexts import Request
from logos_core.hparams import load_hparams
from logos_core.memit import apply_memit
from logos_core.models import LoadedModel
from logos_core.stats import layer_stats


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def build(tiny: bool, tok_dir: str, device: str):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tok_dir)
    tok.pad_token = tok.pad_token or tok.eos_token
    if tiny:
        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=256, intermediate_size=896, num_hidden_layers=12,
                          num_attention_heads=8, num_key_value_heads=2)
    else:  # Llama-3.1-8B's shape
        cfg = LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                          num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)   # build in bf16 directly: 8B in float32 would take 32 GB first
    with torch.device(device):
        model = LlamaForCausalLM(cfg).eval()
    torch.set_default_dtype(torch.float32)
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, tok, "8b-shape-random", "random", "random-8b-shape", device, 0.0, False)


def machine_cycle(lm, hp, n_facts: int, stats_tokens: int, device: str) -> dict:
    """Wake n bank facts through LogosMachine (null-space edits), then one full sleep cycle (audit,
    refresh, LoRA consolidation, gate, dissolve), with the default machine configuration. Random
    weights recall nothing, so only the times and memory mean anything here."""
    from logos_core.facts import load_bank
    from logos_core.machine import LogosMachine, MachineConfig

    rows = {}
    hp.v_steps, hp.early_stop_loss = 25, 0.05
    m = LogosMachine(lm, hp, MachineConfig(hparams={"stats_tokens": stats_tokens}))
    facts = load_bank().sample(n_facts, seed=0)
    sync(); t = time.perf_counter()
    m.ensure_baseline()
    m.ensure_anchors()
    sync(); rows["machine: perplexity baseline + birth anchors (s, once)"] = time.perf_counter() - t
    sync(); t = time.perf_counter()
    m.inject(facts)
    sync(); rows[f"machine: wake {n_facts} facts, per fact (s)"] = (time.perf_counter() - t) / n_facts
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(); t = time.perf_counter()
    log = m.sleep(1)[0]
    sync(); rows[f"machine: one sleep cycle, {n_facts} facts (s)"] = time.perf_counter() - t
    for k in ("refresh_seconds", "train_seconds"):
        if k in log:
            rows[f"  {k}"] = log[k]
    if device == "cuda":
        rows["peak GPU memory, sleep cycle (GB)"] = torch.cuda.max_memory_allocated() / 1e9
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--stats-tokens", type=int, default=20480)
    ap.add_argument("--json", default="")
    ap.add_argument("--sleep-facts", type=int, default=0,
                    help="then a Logos machine on the same model: wake N bank facts and one sleep cycle")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    lm = build(args.tiny, args.tokenizer, device)
    hp = load_hparams("8b")
    hp.stats_tokens = args.stats_tokens
    rows = {}

    ids = torch.randint(100, 40000, (8, 512), device=device)
    with torch.no_grad():
        lm.model(ids)  # warm-up at the timed shape
        sync(); t = time.perf_counter()
        lm.model(ids)
        sync(); rows["forward floor, 4096 tokens (s)"] = time.perf_counter() - t
    floor_tps = 4096 / rows["forward floor, 4096 tokens (s)"]

    text = open("data/corpus/stats_corpus.txt").read()
    from logos_core.stats import accumulate
    names = [hp.rewrite_module.format(l) for l in hp.layers]
    accumulate(lm, names, text[:20000], 2048, progress=False)  # warm-up
    sync(); t = time.perf_counter()
    accumulate(lm, names, text, args.stats_tokens, progress=False)
    sync(); rows[f"statistics accumulate only, {args.stats_tokens} tokens (s)"] = time.perf_counter() - t
    sync(); t = time.perf_counter()
    stats = layer_stats(lm, hp, text=text, n_tokens=args.stats_tokens, progress=False, force=True)
    sync(); rows[f"statistics with cache write (4 GB, fsync), {args.stats_tokens} tokens (s)"] = time.perf_counter() - t
    rows["statistics time / forward-floor time, same tokens"] = rows[
        f"statistics accumulate only, {args.stats_tokens} tokens (s)"] / (args.stats_tokens / floor_tps)

    # Where a target step's time goes: the same padded batch, forward alone and forward + backward.
    from logos_core.compute_ks import _right_pad
    from logos_core.compute_z import _build
    req = Request("Aria Velkari", "Aria Velkari lives in", "Lisbon", "lives_in")
    built = _build(lm.tok, req, hp, lm.tok(" Lisbon", add_special_tokens=False).input_ids)
    zids, zatt = _right_pad(built["rows"], lm.tok.pad_token_id, device)
    rows["z batch: rows x padded length"] = f"{zids.shape[0]} x {zids.shape[1]}"
    emb = lm.model.get_input_embeddings()
    for label, grad in (("z batch forward only, x10 (s)", False), ("z batch forward+backward, x10 (s)", True)):
        sync(); t = time.perf_counter()
        for _ in range(10):
            x = emb(zids).detach().requires_grad_(grad)
            out = lm.model(inputs_embeds=x, attention_mask=zatt).logits[:, -1].float().sum()
            if grad:
                out.backward()
        sync(); rows[label] = time.perf_counter() - t
    hp.v_steps, hp.early_stop_loss = 25, 0.0   # random weights never reach the target: time all 25 steps
    apply_memit(lm, hp, [Request("Bram Ostari", "Bram Ostari plays the", "cello")], stats)  # warm-up
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(); t = time.perf_counter()
    edit = apply_memit(lm, hp, [req], stats)
    sync(); total = time.perf_counter() - t
    rows["compute_z, 25 Adam steps (s)"] = edit.info["z_seconds"]
    rows["keys + 5 float64 solves + weight writes (s)"] = total - edit.info["z_seconds"]
    rows["whole wake edit, plain MEMIT (s)"] = total
    if device == "cuda":
        rows["peak GPU memory, plain edit (GB)"] = torch.cuda.max_memory_allocated() / 1e9

    # The default wake: the null-space-constrained update (nullspace.py), protecting a fact already held.
    from logos_core.nullspace import null_projectors
    sync(); t = time.perf_counter()
    P = null_projectors(lm, hp, stats)
    sync(); rows["null-space projectors: 5 eigh + cache write (s, once per statistics)"] = time.perf_counter() - t
    keep = {layer: K.to(device) for layer, K in edit.keys.items()}
    req2 = Request("Cora Imvell", "Cora Imvell works as a", "glassblower", "works_as")
    apply_memit(lm, hp, [Request("Ivo Marsk", "Ivo Marsk drives a", "Volvo")], stats, projectors=P, keep_keys=keep)
    sync(); t = time.perf_counter()
    ns = apply_memit(lm, hp, [req2], stats, projectors=P, keep_keys=keep)
    sync(); total = time.perf_counter() - t
    rows["null-space edit: compute_z (s)"] = ns.info["z_seconds"]
    rows["null-space edit: keys + 5 projected solves + writes (s)"] = total - ns.info["z_seconds"]
    rows["whole wake edit, null-space (the default) (s)"] = total
    if args.sleep_facts:
        rows.update(machine_cycle(lm, hp, args.sleep_facts, args.stats_tokens, device))
    if device == "cuda":
        rows["peak GPU memory, whole run (GB)"] = torch.cuda.max_memory_allocated() / 1e9
        rows["device"] = torch.cuda.get_device_name()
    for k, v in rows.items():
        print(f"{k:58s} {v:.3f}" if isinstance(v, float) else f"{k:58s} {v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
