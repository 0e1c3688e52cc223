"""Pure math on small random tensors and a tiny random Llama: checked against float64 references."""
import dataclasses

import numpy as np
import pytest
import torch

from logos_core.base.atomic import write_json
from logos_core.base.hparams import MemitHparams, load_hparams
from logos_core.base.nethook import StopForward, Trace, TraceDict
from logos_core.measure.evaluate import contains
from logos_core.wake.contexts import Request, contexts, subject_last_positions
from logos_core.wake.edits import Edit, EditBook, LowRank, scaled_sum
from logos_core.wake.memit import solve_factors, solve_update


def test_solve_update_matches_float64_reference():
    g = torch.Generator().manual_seed(0)
    d_in, d_out, n = 40, 24, 3
    X = torch.randn(500, d_in, generator=g)
    C = (X.T @ X / 500).float()
    K = torch.randn(d_in, n, generator=g)
    R = torch.randn(d_out, n, generator=g)
    lam = 7.5
    dW = solve_update(R, K, C, lam)
    Kn, Cn, Rn = K.double().numpy(), C.double().numpy(), R.double().numpy()
    ref = Rn @ Kn.T @ np.linalg.inv(lam * Cn + Kn @ Kn.T)
    assert dW.dtype == torch.float64 and dW.shape == (d_out, d_in)
    np.testing.assert_allclose(dW.numpy(), ref, rtol=1e-9, atol=1e-12)


def test_solve_update_moves_new_keys_toward_target_and_spares_ordinary_keys():
    g = torch.Generator().manual_seed(1)
    d_in, d_out = 30, 10
    X = torch.randn(2000, d_in, generator=g)
    C = X.T @ X / 2000
    k = torch.randn(d_in, 1, generator=g) * 3
    r = torch.randn(d_out, 1, generator=g)
    for lam in (1e-3, 10.0, 1e3):
        dW = solve_update(r, k, C, lam)
        # one key: dW k = r * a / (1 + a), a = k^T (lam C)^-1 k  (each layer closes that share of the gap)
        a = float(k.double().T @ torch.linalg.solve(lam * C.double(), k.double()))
        assert torch.allclose(dW @ k.double(), r.double() * a / (1 + a), rtol=1e-8, atol=1e-10)
        # and it is the minimum-norm change in the C-weighted sense: rows lie in span(C^-1 k)
        direction = torch.linalg.solve(C.double(), k.double())[:, 0]
        assert torch.allclose(dW, dW[:, :1] / direction[0] * direction[None, :], rtol=1e-6, atol=1e-9)


def test_edit_scales_compose_and_zero_restores_exactly(tiny_lm):
    hp = dataclasses.replace(MemitHparams(), layers=[0, 1])
    w0 = {l: tiny_lm.model.model.layers[l].mlp.down_proj.weight.detach().clone() for l in (0, 1)}
    g = torch.Generator().manual_seed(2)
    book = EditBook(tiny_lm, hp)
    e1 = book.attach(Edit({0: torch.randn(32, 64, generator=g), 1: torch.randn(32, 64, generator=g)}))
    e2 = book.attach(Edit({1: LowRank(torch.randn(32, 2, generator=g), torch.randn(64, 2, generator=g))}))
    w = tiny_lm.model.model.layers[1].mlp.down_proj.weight
    assert torch.allclose(w, w0[1] + e1.deltas[1] + e2.deltas[1].U @ e2.deltas[1].V.T, atol=1e-6)
    book.set_scale(e1.id, 0.5)
    assert torch.allclose(w, w0[1] + 0.5 * e1.deltas[1] + e2.deltas[1].U @ e2.deltas[1].V.T, atol=1e-6)
    for _ in range(20):  # many changes must not accumulate rounding
        book.set_scale(e2.id, 0.1)
        book.set_scale(e2.id, 1.0)
    book.set_scale(e1.id, 0.0)
    book.remove(e2.id)
    for l in (0, 1):
        assert torch.equal(tiny_lm.model.model.layers[l].mlp.down_proj.weight, w0[l])


def test_factored_deltas_match_their_dense_products():
    """MEMIT's update is kept as factors: the factored solve, a refresh's scaled sum (stacked factors)
    and the norm must equal the dense float64 computations."""
    g = torch.Generator().manual_seed(3)
    R, K = torch.randn(12, 3, generator=g), torch.randn(20, 3, generator=g)
    X = torch.randn(20, 50, generator=g)
    C = (X @ X.T / 50).double()
    U, V = solve_factors(R, K, C, 4.0)
    assert U.shape == (12, 3) and V.shape == (20, 3)
    assert torch.allclose(U @ V.T, solve_update(R, K, C, 4.0), rtol=0, atol=1e-12)
    a = LowRank(torch.randn(12, 2, generator=g), torch.randn(20, 2, generator=g))
    b = LowRank(torch.randn(12, 1, generator=g), torch.randn(20, 1, generator=g))
    s = scaled_sum(a, 0.5, b, 0.1)
    assert isinstance(s, LowRank) and s.U.shape == (12, 3)
    assert torch.allclose(s.dense(), 0.5 * a.dense() + 0.1 * b.dense(), atol=1e-12)
    mixed = scaled_sum(a.dense().float(), 0.5, b, 0.1)              # an old dense delta with a new factored one
    assert torch.allclose(mixed.double(), 0.5 * a.dense() + 0.1 * b.dense(), atol=1e-5)
    assert abs(Edit({0: a, 1: b}).norm() ** 2 - (a.dense().norm() ** 2 + b.dense().norm() ** 2)) < 1e-9


def test_trace_stops_early_and_removes_itself(tiny_lm):
    ids = torch.tensor([[5, 6, 7, 8]])
    name = "model.layers.0.mlp.down_proj"
    with TraceDict(tiny_lm.model, [name], stop_at=name, capture_input=True) as td:
        out = tiny_lm.model(ids)
        pytest.fail("the forward pass should have stopped")  # pragma: no cover
    assert td[name].input.shape == (1, 4, 64)
    assert not tiny_lm.model.model.layers[0].mlp.down_proj._forward_hooks
    with Trace(tiny_lm.model, "model.layers.1", edit_output=lambda h: h * 0):
        out = tiny_lm.model(ids)
    assert out.logits.shape == (1, 4, len(tiny_lm.tok))


def test_a_trace_swallows_only_the_stop_it_asked_for(tiny_lm):
    ids = torch.tensor([[5, 6, 7, 8]])
    outer = "model.layers.1"
    with pytest.raises(StopForward):        # the inner Trace stopped; the outer one must not hide it
        with Trace(tiny_lm.model, outer, capture_output=True):
            with Trace(tiny_lm.model, "model.layers.0", stop=True) as inner:
                tiny_lm.model(ids)
            raise StopForward                # as if another hook had stopped the pass out here
    assert inner.output is None and not tiny_lm.model.model.layers[1]._forward_hooks


def test_muted_edits_come_back_at_their_scales_even_after_an_error(tiny_lm):
    hp = dataclasses.replace(MemitHparams(), layers=[0, 1])
    w0 = tiny_lm.model.model.layers[1].mlp.down_proj.weight.detach().clone()
    g = torch.Generator().manual_seed(4)
    book = EditBook(tiny_lm, hp)
    a = book.attach(Edit({1: torch.randn(32, 64, generator=g)}, scale=0.5))
    b = book.attach(Edit({1: torch.randn(32, 64, generator=g)}))
    edited = tiny_lm.model.model.layers[1].mlp.down_proj.weight.detach().clone()
    with book.muted():
        assert torch.equal(tiny_lm.model.model.layers[1].mlp.down_proj.weight, w0)
    assert book.scales() == {a.id: 0.5, b.id: 1.0}
    assert torch.allclose(tiny_lm.model.model.layers[1].mlp.down_proj.weight, edited, atol=1e-6)
    with pytest.raises(RuntimeError), book.muted([a.id]):
        assert book.scales() == {a.id: 0.0, b.id: 1.0}
        raise RuntimeError("inside")
    assert book.scales() == {a.id: 0.5, b.id: 1.0}
    snap = book.snapshot()
    book.remove(b.id)
    book.set_scale(a.id, 0.1)
    book.restore(snap)
    assert book.scales() == {a.id: 0.5, b.id: 1.0}
    assert torch.allclose(tiny_lm.model.model.layers[1].mlp.down_proj.weight, edited, atol=1e-6)


def test_subject_last_positions_find_every_occurrence(lm):
    req = Request("Aria Velkari", "Aria Velkari lives in", "Lisbon")
    texts = contexts(lm.tok, req, n_raw=2, n_chat=2)
    assert len(texts) == 5 and all(t.endswith("Aria Velkari lives in") for t in texts)
    ids, pos = subject_last_positions(lm.tok, texts[-1], "Aria Velkari")
    assert len(pos) == 2  # in the user's question and in the assistant's answer
    for p in pos:
        assert lm.tok.decode(ids[: p + 1]).endswith("Velkari")


def test_raw_wordings_are_other_sentences_that_end_before_the_object():
    from logos_core.measure.facts import load_bank
    from logos_core.wake.contexts import contexts_with_turns

    bank = load_bank()
    for rel in bank.relations:
        f = next(x for x in bank.facts if x.relation == rel)
        req = Request.from_fact(f)
        raw = [t for t, start in contexts_with_turns(None, req, 0, 0, wordings=2) if start is None]
        assert raw[0] == req.prompt and len(raw) == 3, rel
        for t in raw[1:]:
            # the subject in a new sentence, never the bank's own raw prompt (kept for measuring)
            assert f.subject in t and t != req.prompt and t.rstrip() != f.raw_prompt, (rel, t)
    req = Request("Ines", "Ines keeps an", "owl", "pet")
    assert [t for t, _ in contexts_with_turns(None, req, 0, 0, wordings=1)][1] == "At home Ines keeps an"
    assert contexts_with_turns(None, Request("Ines", "Ines's cat is named", "Tom", "cat_name"), 0, 0,
                               wordings=2) == [("Ines's cat is named", None)]   # an open relation: its statement


def test_contains_is_case_punctuation_and_word_insensitive():
    assert contains("She lives in LISBON, Portugal.", "Lisbon")
    assert contains("an Alfa-Romeo", "Alfa Romeo")
    assert contains("a 2019 Mazda3 hatchback", "Mazda")
    assert not contains("Lisbonne", "Lisbon")
    assert not contains("the scarlet letter", "car")


def test_atomic_json_write_replaces_whole_file(tmp_path):
    p = tmp_path / "x.json"
    write_json(p, {"a": 1})
    write_json(p, {"a": 2})
    assert p.read_text().strip().endswith("}") and '"a": 2' in p.read_text()
    assert [f.name for f in tmp_path.iterdir()] == ["x.json"]  # no temp files left behind


def test_unknown_model_hparams_name_the_file_to_add():
    from logos_core.base.errors import LogosError

    with pytest.raises(LogosError, match="logos_core/hparams/"):
        load_hparams("someone/unknown-model")
    assert load_hparams("8b").layers == [4, 5, 6, 7, 8] and load_hparams("8b").mom2_weight == 15000


def test_distillation_rows_mask_the_answers_and_vanish_at_the_anchor(tiny_lm):
    """Knowledge distillation (anchors.answer_targets): the kept positions are exactly those that
    predict the answer's tokens; the KL is zero for the model the targets came from and grows when a
    weight moves; targets saved before masks existed get the mask they implied."""
    from logos_core.base.tokens import encode_chat
    from logos_core.sleep.anchors import answer_targets, merge_targets, text_targets
    from logos_core.sleep.consolidate import _batches, _encode_text, _step_loss

    tok = tiny_lm.tok
    chat = [("What is the capital of Italy?", "The capital of Italy is Rome.")]
    know = answer_targets(tiny_lm, chat, [("The capital of Spain is", " Madrid.")])
    (ids, labels, _), = encode_chat(tok, chat)
    n_prompt = sum(1 for y in labels if y == -100)
    row = know["mask"][0].nonzero().flatten().tolist()
    assert row == list(range(n_prompt - 1, len(ids) - 1))          # each answer token predicted once
    assert know["lengths"][0] == len(ids) and not know["mask"][1, know["lengths"][1] - 1:].any()

    text = text_targets(tiny_lm, [list(range(100, 140))])
    legacy = {k: text[k] for k in ("ids", "top_ids", "top_logp")}
    assert torch.equal(merge_targets(legacy)["mask"], text["mask"])   # all but the last position
    both = merge_targets(text, know)
    assert both["group"].tolist() == [0, 1, 1] and both["mask"].sum() == text["mask"].sum() + know["mask"].sum()

    rows = _encode_text(both)
    batch = next(_batches(rows, 8, tok.pad_token_id, __import__("random").Random(0), "cpu"))[:4]
    loss, ce = _step_loss(tiny_lm.model, *batch, both)
    assert ce is None and abs(loss.item()) < 1e-5, loss.item()      # KL of a distribution with itself
    w = tiny_lm.model.lm_head.weight    # random init is near uniform; a unit-scale change is not
    with torch.no_grad():
        w.add_(torch.randn_like(w))
    assert _step_loss(tiny_lm.model, *batch, both)[0].item() > 1e-3


def test_step_loss_on_the_needed_positions_equals_the_loss_over_full_logits(tiny_lm):
    """_step_loss projects only the positions that carry a loss onto the vocabulary: the same loss and
    gradient, to float rounding, as the formula over the full logits (written out here in float64),
    on a batch mixing answer rows, knowledge rows and text rows of different lengths."""
    import random

    from logos_core.base.tokens import encode_chat
    from logos_core.sleep.anchors import answer_targets, merge_targets, text_targets
    from logos_core.sleep.consolidate import _batches, _encode_text, _step_loss

    tok, model = tiny_lm.tok, tiny_lm.model
    chat = [("What is the capital of Italy?", "The capital of Italy is Rome."), ("Who wrote Hamlet?", "Shakespeare.")]
    text = merge_targets(text_targets(tiny_lm, [list(range(100, 140)), list(range(200, 215))]),
                         answer_targets(tiny_lm, chat[:1], [("The capital of Spain is", " Madrid.")]))
    rows = encode_chat(tok, chat) + _encode_text(text)
    ids, att, lab, text_rows, _ = next(_batches(rows, 8, tok.pad_token_id, random.Random(0), "cpu"))
    torch.manual_seed(1)
    with torch.no_grad():    # away from the anchors, so the KL is not zero (random init is near uniform)
        model.lm_head.weight.add_(torch.randn_like(model.lm_head.weight))
    w = model.model.layers[1].mlp.down_proj.weight
    w.requires_grad_(True)
    try:
        loss, ce = _step_loss(model, ids, att, lab, text_rows, text)
        (g_fast,) = torch.autograd.grad(loss, w)

        logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].double()
        tgt = lab[:, 1:]
        ref_ce = torch.nn.functional.cross_entropy(logits[tgt >= 0], tgt[tgt >= 0])
        ref = ref_ce
        groups = {}
        for i, j in text_rows:
            m = text["mask"][j, :logits.shape[1]]
            lp = torch.log_softmax(logits[i, :len(m)], -1).gather(-1, text["top_ids"][j, :len(m)])
            rp = text["top_logp"][j, :len(m)].double()
            rest = lambda x: torch.log1p(-x.exp().sum(-1).clamp(max=1 - 1e-6))
            kl = (rp.exp() * (rp - lp)).sum(-1) + rest(rp).exp() * (rest(rp) - rest(lp))
            groups.setdefault(int(text["group"][j]), []).append(kl[m].mean())
        ref = ref + sum(torch.stack(v).mean() for v in groups.values())
        (g_ref,) = torch.autograd.grad(ref, w)
    finally:
        w.requires_grad_(False)
    assert len(groups) == 2 and len(text_rows) == 4          # text chunks; knowledge answers, chat and raw
    kl_fast, kl_ref = (loss - ce).item(), (ref - ref_ce).item()
    assert kl_ref > 0.01 and abs(kl_fast - kl_ref) < 1e-4 * kl_ref, (kl_fast, kl_ref)
    assert abs(ce.item() - ref_ce.item()) < 1e-5 * ref_ce.item()
    assert torch.allclose(g_fast, g_ref.float(), rtol=1e-3, atol=1e-5 * g_ref.abs().max().item())


def test_a_shared_chat_prefix_runs_once_with_the_same_loss_and_gradient():
    """Rows that open alike (the chat template) run that opening once (consolidate._logits_where):
    the same logits and gradients as running it in every row, in float64 on a tiny random Llama."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from logos_core.base.tokens import right_pad
    from logos_core.sleep.consolidate import _logits_where, _shared_prefix

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                      num_attention_heads=4, num_key_value_heads=2)
    model = LlamaForCausalLM(cfg).double()
    opening = list(range(1, 11))
    ids, att = right_pad([opening + [11, 12, 13, 14], opening + [15, 16], opening + [17, 18, 19, 20, 21, 22]], 0)
    lab = ids.clone()
    lab[:, :10], lab[att == 0] = -100, -100
    need = lab[:, 1:] >= 0
    assert _shared_prefix(ids, att, need) == 9          # position 9 predicts the first answer token
    shared = _logits_where(model, ids, att, need).double()
    shared.pow(2).sum().backward()
    g_shared = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    full = model.lm_head(model.model(input_ids=ids, attention_mask=att).last_hidden_state[:, :-1][need])
    full.pow(2).sum().backward()
    assert torch.allclose(shared, full, rtol=0, atol=1e-5)   # the head's float32 cast, nothing more
    for a, b in zip(g_shared, (p.grad for p in model.parameters())):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
    assert _shared_prefix(ids.flip(1), att.flip(1), need) == 0    # nothing shared: the plain path


def test_resumed_forward_equals_the_full_forward_with_the_same_addition(tiny_lm):
    """compute_z runs only the blocks after L per step (resume.py): same hidden states as the whole
    model with the vector added by a hook, on a right-padded batch."""
    from logos_core.base.tokens import right_pad
    from logos_core.wake.resume import Resume

    model = tiny_lm.model
    ids, att = right_pad([[5, 6, 7, 8, 9], [10, 11, 12]], 0, "cpu")
    r = Resume.build(model, 0, ids, att)
    assert r is not None and len(r.blocks) == 2
    add = torch.zeros(2, 5, 1)
    add[0, 2], add[1, 1] = 1.0, 1.0
    add = add * torch.randn(32)
    with Trace(model, "model.layers.0", edit_output=lambda h: h + add):
        full = model.model(input_ids=ids, attention_mask=att, use_cache=False).last_hidden_state
    assert torch.equal(r(add), full)
    assert not torch.equal(r(), full)                   # the addition matters downstream
    assert Resume.build(model, 2, ids, att) is None     # nothing after the last block


@pytest.mark.parametrize("rows", [[[5, 6, 7, 8, 9], [10, 11, 12]], [[5, 6, 7, 8, 9], [10, 11, 12, 13, 14]]])
def test_resumed_forward_with_a_kept_prefix_equals_the_full_forward(tiny_lm, rows):
    """With `start`, positions before it run once at the build and only start.. run per step,
    attending to the kept keys and values: the same hidden states (there) as the whole model, with
    padding (a 4-D mask from the model) and without (the mask is built), and each step's gradient
    its own (two backward passes, no graph shared between steps)."""
    from logos_core.base.tokens import right_pad
    from logos_core.wake.resume import Resume

    model = tiny_lm.model
    ids, att = right_pad(rows, 0, "cpu")
    r = Resume.build(model, 0, ids, att, start=2)
    assert r is not None and r.start == 2 and r.h.shape[1] == ids.shape[1] - 2
    delta = torch.randn(32, requires_grad=True)
    mask = torch.zeros(2, ids.shape[1], 1)
    mask[0, 3], mask[1, 2] = 1.0, 1.0
    with torch.no_grad(), Trace(model, "model.layers.0", edit_output=lambda h: h + mask * delta):
        full = model.model(input_ids=ids, attention_mask=att, use_cache=False).last_hidden_state
    valid = att[:, 2:].bool()               # padded positions' outputs are never read
    for _ in range(2):
        out = r(mask * delta)
        assert torch.allclose(out[valid], full[:, 2:][valid], atol=1e-5)
        out[valid].sum().backward()
        assert delta.grad is not None and delta.grad.abs().sum() > 0
        delta.grad = None


def test_packed_rows_give_each_rows_own_hidden_states(tiny_lm):
    """build_packed: every row keeps its own positions before its own start and all rows' later
    positions run as one sequence; the same hidden states there as the whole model with the vector
    added by a hook, and a gradient that reaches the vector."""
    from logos_core.base.tokens import right_pad
    from logos_core.wake.resume import Resume

    model = tiny_lm.model
    ids, att = right_pad([[5, 6, 7, 8, 9, 10], [11, 12, 13], [14, 15, 16, 17]], 0, "cpu")
    starts = [3, 1, 2]
    r = Resume.build_packed(model, 0, ids, att, starts)
    assert r is not None and r.h.shape == (1, 3 + 2 + 2, 32)
    delta = torch.randn(32, requires_grad=True)
    mask = torch.zeros(3, ids.shape[1], 1)
    mask[0, 3], mask[1, 1], mask[2, 2], mask[2, 3] = 1.0, 1.0, 1.0, 1.0
    with torch.no_grad(), Trace(model, "model.layers.0", edit_output=lambda h: h + mask * delta):
        full = model.model(input_ids=ids, attention_mask=att, use_cache=False).last_hidden_state
    out = r(mask * delta)
    rows, pos = r.index
    assert torch.allclose(out[0], full[rows, pos], atol=1e-5)
    out.sum().backward()
    assert delta.grad is not None and delta.grad.abs().sum() > 0


def test_graph_step_arithmetic_follows_torch_adam_and_early_stop():
    """The captured step (graphed_z.py) writes Adam and the clamp out by hand; run eagerly here, it
    must give the eager loop's delta (torch.optim.Adam), with and without an early stop."""
    from logos_core.wake.compute_z import _eager_search
    from logos_core.wake.graphed_z import _search

    torch.manual_seed(0)
    A, y = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    h = torch.randn(4, dtype=torch.float64)

    def loss_of(d):
        per = (A @ (h + d) - y) ** 2          # stands in for each context's object NLL
        return per.mean() + 0.1 * d.norm() ** 2, per.mean(), per.max()

    for steps, stop, worst, clamp in ((30, 0.0, None, 10.0), (30, 0.0, None, 0.05), (200, 0.9, None, 10.0),
                                      (200, 0.9, 1.5, 10.0)):
        hp = MemitHparams(layers=[0], v_lr=0.1, v_steps=steps, early_stop_loss=stop, stop_context_nll=worst,
                          clamp_norm=clamp)
        max_norm = hp.clamp_norm * h.norm()
        d_eager, hist_eager = _eager_search(loss_of, h, max_norm, hp)
        d_graph, hist_graph, how = _search(loss_of, h, max_norm, hp, capture=False)
        assert len(hist_graph) == len(hist_eager)
        assert torch.allclose(d_graph, d_eager, rtol=1e-9, atol=1e-12), (steps, stop, clamp)
        if steps == 200:
            assert len(hist_eager) < 200      # these cases stopped early, on the mean and on the worst


def test_adapter_branch_matches_fusing_and_comes_back_out_exactly(tiny_lm):
    """On a 4-bit module the nightly adapter stays a side branch (branch.py): the same function as
    W += s B A (checked here on a float module, where both can be formed), removed bit for bit."""
    from logos_core.sleep.branch import add_branch, reset_branches

    mod = tiny_lm.model.model.layers[0].mlp.down_proj           # [32, 64]
    torch.manual_seed(1)
    x = torch.randn(3, 5, 64)
    ab = {"A": torch.randn(4, 64), "B": torch.randn(32, 4), "scaling": 0.5}
    y0 = mod(x)
    add_branch(mod, ab)
    y1 = mod(x)
    fused = torch.nn.functional.linear(x, mod.weight + ab["scaling"] * ab["B"] @ ab["A"])
    assert torch.allclose(y1, fused, rtol=1e-5, atol=1e-5) and not torch.allclose(y1, y0)
    add_branch(mod, ab, sign=-1.0)
    assert torch.equal(mod(x), y0)
    reset_branches(tiny_lm.model, [{"model.layers.0.mlp.down_proj": ab}])   # float: fused elsewhere, no branch
    assert torch.equal(mod(x), y0)
    mod._logos_branch.handle.remove()


def test_each_context_key_reaches_its_own_target(tiny_lm, bank):
    """hp.key_mode "each": a key column per context, each moved to its context's h_L plus compute_z's
    delta. With one edited layer, P = I and a vanishing ridge the solve is exact, so the edited layer's
    output at every context's subject token lands on its target; MEMIT's mean key (the default) lands
    only the average, and the edit keeps one mean key per fact for later null-space protection."""
    from logos_core.wake.compute_ks import compute_ks
    from logos_core.wake.memit import apply_memit

    hp = dataclasses.replace(MemitHparams(), layers=[1], v_steps=3, n_raw_contexts=2, n_chat_contexts=2,
                             nullspace_l2=1e-10, key_mode="each")
    req = Request.from_fact(bank.facts[0])
    K_mean, H_mean, _ = compute_ks(tiny_lm, dataclasses.replace(hp, key_mode="mean"), 1, [req], out_layer=1)
    K, H, owner = compute_ks(tiny_lm, hp, 1, [req], out_layer=1)
    assert K.shape[0] == len(owner) > 3 * 2 and torch.equal(owner, torch.zeros_like(owner))
    assert torch.allclose(K.mean(0), K_mean[0], atol=1e-6) and torch.equal(H[0], H_mean[0])
    w = tiny_lm.model.model.layers[1].mlp.down_proj.weight
    w0 = w.detach().clone()
    for mode in ("each", "mean"):
        w.data.copy_(w0)
        e = apply_memit(tiny_lm, dataclasses.replace(hp, key_mode=mode), [req], {},
                        projectors={1: torch.eye(64, dtype=torch.float64)})
        assert e.keys[1].shape == (64, 1) and torch.allclose(e.keys[1][:, 0], K_mean[0], atol=1e-6)
        _, H_after, _ = compute_ks(tiny_lm, hp, 1, [req], out_layer=1)
        delta = H_after[0] - H[0]                       # what the edit added at the bare prompt
        err = (H_after - (H + delta)).norm(dim=1) / delta.norm()
        if mode == "each":
            assert err.max() < 1e-3, err                # every context got the same delta
        else:
            assert err.max() > 1e-2, err                # the mean key alone does not
    w.data.copy_(w0)
    e = apply_memit(tiny_lm, dataclasses.replace(hp, protect_keys="each"), [req], {},
                    projectors={1: torch.eye(64, dtype=torch.float64)})
    assert torch.allclose(e.keys[1], K.T, atol=1e-6)    # every context's key kept for protection
    w.data.copy_(w0)


def test_key_passes_rerun_from_the_edited_layer_and_match_compute_ks(tiny_lm, bank):
    """MEMIT's layer loop reads each layer's keys after the layers below were edited (memit.py):
    KeyPasses re-runs only the blocks from the last edited layer and gives compute_ks's numbers."""
    from logos_core.wake.compute_ks import KeyPasses, compute_ks

    hp = dataclasses.replace(MemitHparams(), layers=[0, 1, 2], n_raw_contexts=2, n_chat_contexts=1, key_mode="each")
    reqs = [Request.from_fact(bank.facts[0]), Request.from_fact(bank.facts[1])]
    layers = tiny_lm.model.model.layers
    w0 = {l: layers[l].mlp.down_proj.weight.detach().clone() for l in hp.layers}
    g = torch.Generator().manual_seed(5)
    try:
        passes = KeyPasses(tiny_lm, hp, reqs)
        for i, layer in enumerate(hp.layers):
            want = compute_ks(tiny_lm, hp, layer, reqs, out_layer=hp.layers[-1])
            got = passes.at(i)
            for a, b in zip(want, got):
                assert torch.equal(a, b), (layer, float((a.float() - b.float()).abs().max()))
            with torch.no_grad():        # an edit of this layer, as the loop makes before the next one
                layers[layer].mlp.down_proj.weight.add_(0.05 * torch.randn(32, 64, generator=g))
    finally:
        with torch.no_grad():
            for l, w in w0.items():
                layers[l].mlp.down_proj.weight.copy_(w)


def test_bucketed_batches_cover_every_row_once_and_group_alike_rows():
    """consolidate._batches with buckets: every row exactly once per epoch, chat-like rows (a shared
    opening) apart from the others, and rows of similar length together (little padding)."""
    import random

    from logos_core.sleep.consolidate import _batches

    rng = random.Random(0)
    opening = list(range(1, 11))
    chat = [opening + [20 + i] * rng.randint(2, 30) for i in range(24)]
    other = [[50 + i] * rng.randint(3, 90) for i in range(16)]
    rows = [(ids, [-100] * len(ids), None) for ids in chat + other]
    flags = list(range(len(rows)))
    seen, pads = [], 0
    for _, att, _, _, fl in _batches(rows, 8, 0, random.Random(1), "cpu", buckets=True, flags=flags):
        seen += fl
        assert len({i < len(chat) for i in fl}) == 1, "a batch mixes chat-like rows with others"
        pads += int((att == 0).sum())
    assert sorted(seen) == flags
    plain = sum(int((att == 0).sum()) for _, att, _, _, _ in _batches(rows, 8, 0, random.Random(1), "cpu"))
    assert pads < plain / 2


def test_without_own_edit_equals_muting_that_edit_row_by_row(tiny_lm):
    """EditBook.without_own: in one batch, each row runs as if its own edit were at scale 0 (the
    gate asks every fact this way at once); the same outputs as muting each row's edit alone."""
    hp = dataclasses.replace(MemitHparams(), layers=[0, 1])
    g = torch.Generator().manual_seed(6)
    book = EditBook(tiny_lm, hp)
    a = book.attach(Edit({0: LowRank(torch.randn(32, 2, generator=g), torch.randn(64, 2, generator=g)),
                          1: LowRank(torch.randn(32, 2, generator=g), torch.randn(64, 2, generator=g))}, scale=0.5))
    b = book.attach(Edit({1: LowRank(torch.randn(32, 3, generator=g), torch.randn(64, 3, generator=g))}))
    ids = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]])
    with torch.no_grad():
        with book.without_own([a.id, b.id, None]):
            batched = tiny_lm.model(ids).logits
        one_by_one = []
        for i, own in enumerate([a.id, b.id, None]):
            with book.muted([own] if own else []):
                one_by_one.append(tiny_lm.model(ids[i:i + 1]).logits[0])
    assert torch.allclose(batched, torch.stack(one_by_one), atol=1e-5)
    assert not tiny_lm.model.model.layers[1].mlp.down_proj._forward_hooks      # hooks removed
    book.remove(a.id)
    book.remove(b.id)


def test_generation_without_own_edit_runs_each_rows_prompt_under_its_own_weights(tiny_lm):
    """evaluate.generate shares a batch's common prompt prefix only when every row runs the same
    weights: under EditBook.without_own (the gate) each row's greedy answer is the one it gives alone
    with its own edit muted, chat template and all."""
    from logos_core.base.tokens import chat_text
    from logos_core.measure import evaluate as E

    hp = dataclasses.replace(MemitHparams(), layers=[0, 1])
    g = torch.Generator().manual_seed(7)
    book = EditBook(tiny_lm, hp)
    a = book.attach(Edit({0: LowRank(torch.randn(32, 2, generator=g) * 3, torch.randn(64, 2, generator=g) * 3)}))
    b = book.attach(Edit({1: LowRank(torch.randn(32, 2, generator=g) * 3, torch.randn(64, 2, generator=g) * 3)}))
    # shortest first, as the gate asks them: generate keeps that order, so row i is prompts[i]
    prompts = sorted((chat_text(tiny_lm.tok, q) for q in ("Where does Aria live?", "What does Bo play?",
                                                          "Who is Cy?")), key=len)
    owns = [a.id, b.id, None]
    with book.without_own(owns):
        batched = E.generate(tiny_lm, prompts, 6, batch_size=3)
    assert not tiny_lm.rows_differ
    alone = []
    for p, own in zip(prompts, owns):
        with book.muted([own] if own else []):
            alone += E.generate(tiny_lm, [p], 6)
    assert batched == alone
    assert len(set(E.generate(tiny_lm, prompts, 6))) > 1 or len(set(alone)) > 1   # the edits change answers
    book.remove(a.id)
    book.remove(b.id)


def test_namesakes_share_a_name_with_a_told_person_and_answer_as_a_stranger(bank):
    """sleep/consolidate.namesake_examples: per fact, strangers sharing the told person's first name or
    surname, never a told person, asked the fact's relation; each answer is a birth anchor's answer
    about an invented stranger asked that relation, the stranger's name swapped for the namesake's."""
    from logos_core.sleep.anchors import CONTRAST_PEOPLE
    from logos_core.sleep.consolidate import namesake_examples
    from logos_core.wake.relations import TRAIN_QUESTIONS

    facts = bank.sample(12, seed=5)
    anchors = {"contrast": [{"relation": r, "question": q.format(s=p), "answer": f"{p} answers about {r}."}
                            for r, (q, *_) in TRAIN_QUESTIONS.items() for p in CONTRAST_PEOPLE[:3]]}
    rows = namesake_examples(None, facts, 2, seed=0, anchors=anchors)   # lm unused: every answer is an anchor's
    assert len(rows) == 2 * len(facts)
    told = {f.subject for f in facts}
    for f, (q, a) in zip([f for f in facts for _ in range(2)], rows):
        name = a.split(" answers about ")[0]
        assert name not in told and name in q
        first, *rest = f.subject.split()
        assert name.split()[0] == first or (rest and name.endswith(" ".join(rest)))
        assert a == f"{name} answers about {f.relation}."
        assert any(w.format(s=name) == q for w in TRAIN_QUESTIONS[f.relation])
