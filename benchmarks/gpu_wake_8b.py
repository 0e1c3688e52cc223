"""One wake edit on a Llama-3.1-8B-shaped model with random bf16 weights (speed and memory only);
then, optionally, the same shape in 4-bit NF4 through wake and one sleep cycle.

    python benchmarks/gpu_wake_8b.py --tokenizer DIR [--sleep-facts N] [--four-bit-facts N] [--tiny]

Weight values do not change speed or memory, so random weights stand in for the real 8B (which cannot
be carried to the GPU machine). Prints a table: forward floor, statistics pass, target optimisation
(compute_z, eager and as a replayed CUDA graph), keys / solves / writes, whole edit, peak GPU memory.
`--four-bit-facts N` saves the random model, loads it back through `load_model(..., four_bit=True)`
(NF4, the edited down_proj layers kept in bf16) and runs a LogosMachine through wake (N facts) and one
sleep cycle. `--tiny` runs a small shape on the CPU to check the script before spending GPU time
(no 4-bit there: bitsandbytes needs CUDA).
"""
from __future__ import annotations

import argparse
import gc
import json
import time

import torch

from logos_core.base.hparams import load_hparams
from logos_core.base.models import LoadedModel
from logos_core.wake.contexts import Request
from logos_core.wake.memit import apply_memit
from logos_core.wake.stats import layer_stats


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@torch.no_grad()
def floor_seconds(lm, device: str) -> float:
    """One forward pass over 8 x 512 random tokens, after a warm-up at the same shape (the floor)."""
    ids = torch.randint(100, 40000, (8, 512), device=device)
    lm.model(ids)
    sync(); t = time.perf_counter()
    lm.model(ids)
    sync()
    return time.perf_counter() - t


def shape(tiny: bool, vocab: int):
    from transformers import LlamaConfig

    if tiny:
        return LlamaConfig(vocab_size=vocab, hidden_size=256, intermediate_size=896, num_hidden_layers=12,
                           num_attention_heads=8, num_key_value_heads=2)
    # Llama-3.1-8B's shape
    return LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192)


def build(tiny: bool, tok_dir: str, device: str):
    from transformers import AutoTokenizer, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tok_dir)
    tok.pad_token = tok.pad_token or tok.eos_token
    cfg = shape(tiny, len(tok))
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)   # build in bf16 directly: 8B in float32 would take 32 GB first
    with torch.device(device):
        model = LlamaForCausalLM(cfg).eval()
    torch.set_default_dtype(torch.float32)
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, tok, "8b-shape-random", "random", "random-8b-shape", device, 0.0, False)


def machine_cycle(lm, hp, n_facts: int, stats_tokens: int, device: str, tag: str = "machine") -> dict:
    """Wake n bank facts through LogosMachine (null-space edits), then one full sleep cycle (audit,
    refresh, LoRA consolidation, gate, dissolve), with the default machine configuration. Random
    weights recall nothing, so only the times and memory mean anything here; and two exact checks:
    every edit at scale 0 gives the edited layers back bit for bit, and (4-bit) the adapter of each
    quantised module is a side branch."""
    import dataclasses

    from logos_core.base.nethook import get_module
    from logos_core.measure.facts import load_bank
    from logos_core.memory.config import MachineConfig
    from logos_core.memory.machine import LogosMachine

    rows = {}
    hp = dataclasses.replace(hp, v_steps=25, early_stop_loss=0.05)
    m = LogosMachine(lm, hp, MachineConfig(hparams={"stats_tokens": stats_tokens}))
    facts = load_bank().sample(n_facts, seed=0)
    sync(); t = time.perf_counter()
    m.ensure_baseline()
    m.ensure_anchors()
    sync(); rows[f"{tag}: perplexity baseline + birth anchors (s, once)"] = time.perf_counter() - t
    names = [hp.rewrite_module.format(layer) for layer in hp.layers]
    w0 = {n: get_module(lm.model, n).weight.detach().clone() for n in names}
    m.writer.stats(); m.writer.projectors()      # statistics and projectors once, outside the per-fact time
    sync(); t = time.perf_counter()
    m.inject(facts)
    sync(); rows[f"{tag}: wake {n_facts} facts, per fact (s)"] = (time.perf_counter() - t) / n_facts
    with m.book.muted():
        rows[f"{tag}: every edit at scale 0 restores the edited layers bit for bit"] = all(
            torch.equal(get_module(lm.model, n).weight, w0[n]) for n in names)
    rows[f"{tag}: edited layers changed by the edits"] = not all(
        torch.equal(get_module(lm.model, n).weight, w0[n]) for n in names)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(); t = time.perf_counter()
    log = m.sleep(1)[0]
    sync(); rows[f"{tag}: one sleep cycle, {n_facts} facts (s)"] = time.perf_counter() - t
    for k in ("refresh_seconds", "train_seconds", "train_examples", "rolled_back"):
        if k in log:
            rows[f"  {k}"] = log[k]
    branches = sum(len(mod._logos_branch.terms) for mod in lm.model.modules()
                   if getattr(mod, "_logos_branch", None) is not None)
    rows[f"{tag}: adapter modules kept as 4-bit side branches"] = branches
    if device == "cuda":
        rows[f"{tag}: peak GPU memory, sleep cycle (GB)"] = torch.cuda.max_memory_allocated() / 1e9
    return rows


def timed_edit(lm, hp, req, stats, label: str, rows: dict, **kw):
    """One apply_memit, its phases (z / keys / solves / writes) as rows."""
    sync(); t = time.perf_counter()
    edit = apply_memit(lm, hp, [req], stats, **kw)
    sync(); total = time.perf_counter() - t
    for phase in ("z", "keys", "solve", "write"):
        rows[f"{label}: {phase} (s)"] = edit.info[f"{phase}_seconds"]
    rows[f"{label}: z steps, how"] = f"{edit.info['z'][0]['steps']}, {edit.info['z'][0]['graph'] or 'eager'}"
    rows[f"whole wake edit, {label} (s)"] = total
    return edit


def show(rows: dict, path: str) -> None:
    for k, v in rows.items():
        print(f"{k:66s} {v:.3f}" if isinstance(v, float) else f"{k:66s} {v}", flush=True)
    if path:
        with open(path, "w") as f:
            json.dump(rows, f, indent=1, default=str)


def bf16_part(args, device: str, rows: dict) -> None:
    from logos_core.wake.compute_z import compute_z
    from logos_core.wake.nullspace import null_projectors
    from logos_core.wake.stats import accumulate

    lm = build(args.tiny, args.tokenizer, device)
    hp = load_hparams("8b")
    hp.stats_tokens = args.stats_tokens
    rows["forward floor, 4096 tokens (s)"] = floor_seconds(lm, device)
    floor_tps = 4096 / rows["forward floor, 4096 tokens (s)"]

    text = open("data/corpus/stats_corpus.txt").read()
    names = [hp.rewrite_module.format(l) for l in hp.layers]
    accumulate(lm, names, text[:20000], 2048, progress=False)  # warm-up
    sync(); t = time.perf_counter()
    accumulate(lm, names, text, args.stats_tokens, progress=False)
    sync(); rows[f"statistics accumulate only, {args.stats_tokens} tokens (s)"] = time.perf_counter() - t
    sync(); t = time.perf_counter()
    stats = layer_stats(lm, hp, text=text, n_tokens=args.stats_tokens, progress=False, force=True)
    sync(); rows[f"statistics with cache write, {args.stats_tokens} tokens (s)"] = time.perf_counter() - t
    rows["statistics time / forward-floor time, same tokens"] = rows[
        f"statistics accumulate only, {args.stats_tokens} tokens (s)"] / (args.stats_tokens / floor_tps)
    show(rows, args.json)

    hp.v_steps, hp.early_stop_loss = 25, 0.0   # random weights never reach the target: time all 25 steps
    sync(); t = time.perf_counter()
    apply_memit(lm, hp, [Request("Bram Ostari", "Bram Ostari plays the", "cello")], stats)  # warm-up
    sync(); rows["first edit (warm-up; Cholesky factors of lambda C, once per statistics) (s)"] = time.perf_counter() - t
    # The same target search eager and as a replayed graph: time and agreement.
    req = Request("Aria Velkari", "Aria Velkari lives in", "Lisbon", "lives_in")
    out = {}
    for graphs in (False, True):
        sync(); t = time.perf_counter()
        z, info = compute_z(lm, hp, req, graphs=graphs)
        sync(); out[graphs] = (z, time.perf_counter() - t, info)
    rows["compute_z 25 steps, eager (s)"] = out[False][1]
    rows["compute_z 25 steps, CUDA graph (s)"] = out[True][1]
    rows["compute_z graph: how"] = out[True][2]["graph"] or "eager"
    rows["compute_z resumed after block L (blocks 0..L once)"] = out[True][2]["resumed"]
    rows["|z_graph - z_eager| / |z_eager|"] = float((out[True][0] - out[False][0]).norm() / out[False][0].norm())
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    edit = timed_edit(lm, hp, req, stats, "plain MEMIT", rows)
    if device == "cuda":
        rows["peak GPU memory, plain edit (GB)"] = torch.cuda.max_memory_allocated() / 1e9
    show(rows, args.json)

    # The default wake: the null-space-constrained update (nullspace.py), protecting a fact already held.
    sync(); t = time.perf_counter()
    P = null_projectors(lm, hp, stats)
    sync(); rows["null-space projectors: 5 eigh + cache write (s, once per statistics)"] = time.perf_counter() - t
    keep = {layer: K.to(device) for layer, K in edit.keys.items()}
    apply_memit(lm, hp, [Request("Ivo Marsk", "Ivo Marsk drives a", "Volvo")], stats, projectors=P, keep_keys=keep)
    req2 = Request("Cora Imvell", "Cora Imvell works as a", "glassblower", "works_as")
    timed_edit(lm, hp, req2, stats, "null-space (the default)", rows, projectors=P, keep_keys=keep)
    show(rows, args.json)
    if args.probe_z:   # each request's target search again, split into preparation and search
        for r in (req, req2, Request("Ivo Marsk", "Ivo Marsk drives a", "Volvo")):
            for graphs in (True, False):
                sync(); t = time.perf_counter()
                _, info = compute_z(lm, hp, r, graphs=graphs)
                sync(); total = time.perf_counter() - t
                rows[f"probe z {r.object} graphs={graphs}: total / prep / search (s), how"] = (
                    f"{total:.3f} / {info['prep_seconds']:.3f} / {info['search_seconds']:.3f}, {info['graph'] or 'eager'}")
        show(rows, args.json)
    del P, stats, keep, edit
    if args.sleep_facts:
        rows.update(machine_cycle(lm, hp, args.sleep_facts, args.stats_tokens, device, "bf16 machine"))
    if device == "cuda":
        rows["peak GPU memory, bf16 part (GB)"] = torch.cuda.max_memory_allocated() / 1e9
        rows["device"] = torch.cuda.get_device_name()
    show(rows, args.json)
    return lm


def four_bit_part(args, device: str, rows: dict) -> None:
    """The random 8B shape (saved by main) loaded back through load_model in NF4 (edited down_proj in bf16)."""
    from logos_core.base.models import load_model

    hp = load_hparams("8b")
    keep = [hp.rewrite_module.format(layer) for layer in hp.layers]
    torch.cuda.reset_peak_memory_stats()
    sync(); t = time.perf_counter()
    lm = load_model(args.save_dir, device=device, four_bit=True, keep_bf16=keep)
    sync(); rows["4-bit: load + quantise (s)"] = time.perf_counter() - t
    rows["4-bit: GPU memory after load (GB)"] = torch.cuda.memory_allocated() / 1e9
    kinds = {}
    for name, mod in lm.model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            kinds[type(mod).__name__] = kinds.get(type(mod).__name__, 0) + 1
    rows["4-bit: linear modules by class"] = kinds
    from logos_core.base.nethook import get_module
    rows["4-bit: edited down_proj weights"] = sorted({str(get_module(lm.model, n).weight.dtype) for n in keep})
    rows["4-bit: forward floor, 4096 tokens (s)"] = floor_seconds(lm, device)
    show(rows, args.json)
    rows.update(machine_cycle(lm, hp, args.four_bit_facts, args.stats_tokens, device, "4-bit machine"))
    rows["4-bit: peak GPU memory, whole part (GB)"] = torch.cuda.max_memory_allocated() / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--stats-tokens", type=int, default=20480)
    ap.add_argument("--json", default="")
    ap.add_argument("--sleep-facts", type=int, default=0,
                    help="then a Logos machine on the same model: wake N bank facts and one sleep cycle")
    ap.add_argument("--four-bit-facts", type=int, default=0,
                    help="then the same shape in NF4 (CUDA, bitsandbytes): wake N facts and one sleep cycle")
    ap.add_argument("--probe-z", action="store_true", help="time each request's target search, split in parts")
    ap.add_argument("--save-dir", default="/dev/shm/rand8b", help="where the random model is saved for the 4-bit load")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = {}
    lm = bf16_part(args, device, rows)
    if args.four_bit_facts and device == "cuda":
        try:
            t = time.perf_counter()
            lm.model.save_pretrained(args.save_dir)
            lm.tok.save_pretrained(args.save_dir)
            rows["4-bit: save the random bf16 model (s)"] = time.perf_counter() - t
            del lm
            gc.collect()
            torch.cuda.empty_cache()
            four_bit_part(args, device, rows)
        except Exception:  # noqa: BLE001 - the bf16 rows above are kept; the failure is the finding
            import traceback

            rows["4-bit: failed"] = traceback.format_exc(limit=6)
    show(rows, args.json)


if __name__ == "__main__":
    main()
