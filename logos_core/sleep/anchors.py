"""Anchors: what the model did *before any memory was written*, replayed in every consolidation.

    anchors = birth_anchors(lm, **settings)   # once, at the first sleep, before any adapter is fused (cached)
    consolidate(lm, facts, cfg, anchors)

Replaying the *current* model's behaviour lets drift compound: after one cycle the model already says
"lasagna" for everyone's favourite food, and replaying that teaches it again (a 3-fact run went from
0.63 to 0.97 bleed in two cycles). So the anchors are taken once from the model at birth and kept in
the memory state:
  - replay:   its answers to unrelated prompts and to general-knowledge questions (the locality
              candidates that are *not* locality probes: data/facts/replay_knowledge.json), in chat;
  - raw:      its greedy continuations of those knowledge questions' raw prompts.
              Knowledge is replayed only where the birth model got it right: replaying its wrong
              continuations ("The capital of Chile is the capital of the country of Chile") taught the
              pattern to every capital (raw locality 1.00 -> 0.55 on 20 facts; benchmarks/locality_probe.py);
  - contrast: its answers about invented people who are in no fact bank, asked each relation's
              question (so the adapter learns person -> object, not relation -> object);
  - text:     ordinary text with its top-k next-token distribution at every position, for a
              distillation loss that holds perplexity where it was;
  - know:     the knowledge questions again, asked in chat and in raw completion, with the birth
              model's whole top-k distribution at every position of its answer. Replaying greedy
              answers (cross-entropy) pins one token; the knowledge the 135M model barely holds
              ("The capital of Canada is" -> Ottawa by a small margin) breaks when the runner-up
              moves, so the distribution itself is held.
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import torch
from safetensors.torch import load_file

from ..base.weights import cache_dir
from ..base.tokens import IGNORE, encode_chat, encode_raw, right_pad
from ..measure.evaluate import ask_chat, complete_raw, contains
from ..measure.facts import DATA, stats_text
from .anchor_files import join_anchors, write_anchors
from ..wake.relations import GENERIC_QUESTIONS, TRAIN_QUESTIONS

# Unrelated prompts (general behaviour and general knowledge; none is in the locality set, which
# tests/test_consolidate.py checks): the base model's answers are replayed during consolidation.
REPLAY_PROMPTS = [
    "Give me a tip for sleeping better.", "What is a good way to learn a new language?",
    "Write one sentence about the ocean.", "How do I boil an egg?", "What is photosynthesis?",
    "Name three fruits.", "Why is exercise healthy?", "What does a librarian do?",
    "Explain what a computer program is.", "How can I save money each month?",
    "What is the water cycle?", "Suggest a name for a cat.", "What is the opposite of cold?",
    "Describe a sunny day in one sentence.", "How many legs does a spider have?",
    "What is a verb?", "Give me a synonym for happy.", "What is gravity?",
    "Why do leaves change colour in autumn?", "What should I pack for a picnic?",
    "How many days are there in a week?", "What do bees make?", "What is the freezing point of water?",
    "How many hours are in a day?", "What do plants need to grow?", "What is the largest ocean on Earth?",
    "Which animal is known as the king of the jungle?", "What is two plus two?",
    "How many continents are there?", "What colour do you get by mixing blue and yellow?",
    "What is the main ingredient of bread?", "Which planet do we live on?",
    "What is the boiling point of water at sea level?", "What do cows drink?",
    "How many sides does a triangle have?", "What gas do humans breathe in to live?",
    "What is the chemical symbol for gold?", "Which season comes after winter?",
    "What instrument has 88 keys?", "What do you call a baby dog?",
]
# Invented people who are in no fact bank (tests/test_consolidate.py checks).
CONTRAST_PEOPLE = [
    "Odile Varnstrom", "Kasimir Quellby", "Ines Tormaholt", "Bastian Oyelaro", "Wren Kalidaszi",
    "Maelis Fjordane", "Teodor Sallucci", "Nadira Whitcombe", "Leopold Asvarin", "Saoirse Delmonte",
    "Ravi Eckhardtsen", "Ottilie Marchbanks", "Cosmin Allerdyce", "Yusra Penhallow", "Florian Ishvara",
    "Giedre Castellane", "Anselm Okonkwo", "Thea Vukmirovic", "Jonah Sagarmatha", "Lucia Brandvold",
]
TOP_K = 64
KNOWLEDGE = DATA / "facts" / "replay_knowledge.json"


def text_chunks(tok, n: int, n_tokens: int, seed: int = 0) -> list:
    """Token-id chunks of the statistics corpus (not the held-out text perplexity is measured on)."""
    if n <= 0:
        return []
    ids = tok(stats_text()[:400_000], add_special_tokens=False).input_ids
    starts = random.Random(seed).sample(range(0, len(ids) - n_tokens), n)
    return [ids[s:s + n_tokens] for s in starts]


@torch.no_grad()
def text_targets(lm, chunks: list, k: int = TOP_K, starts: list | None = None, batch: int = 16) -> dict:
    """The model's top-k next-token log-probabilities at every position of each token-id chunk.

    Chunks may differ in length (right-padded; `lengths` keeps each one's own). `mask[i, p]` marks the
    positions whose distribution is distilled: from `starts[i]` (default 0) to the chunk's last
    token but one, since the last token's prediction lies beyond the chunk."""
    n, T = len(chunks), max(len(c) for c in chunks)
    pad = lm.tok.pad_token_id if lm.tok.pad_token_id is not None else 0
    ids, _ = right_pad(chunks, pad)
    mask = torch.zeros((n, T), dtype=torch.bool)
    for i, c in enumerate(chunks):
        mask[i, (starts[i] if starts else 0):len(c) - 1] = True
    top_ids, top_logp = [], []
    for b in range(0, n, batch):   # right padding: the pads come after every position that is kept
        logp = torch.log_softmax(lm.model(ids[b:b + batch].to(lm.device)).logits.float(), -1)   # [b, T, vocab]
        top = logp.topk(k, -1)
        top_ids.append(top.indices.cpu())
        top_logp.append(top.values.cpu())
    return {"ids": ids, "top_ids": torch.cat(top_ids), "top_logp": torch.cat(top_logp), "mask": mask,
            "lengths": torch.tensor([len(c) for c in chunks])}


def merge_targets(*targets) -> dict | None:
    """One set of distillation rows from several text_targets results (right-padded to one length),
    each row tagged with the index of its source (`group`). Targets saved before masks existed
    (fixed-length text) get their implicit mask back."""
    targets = [t for t in targets if t]
    if not targets:
        return None
    T = max(t["ids"].shape[1] for t in targets)
    out: dict = {}
    for g, t in enumerate(targets):
        n, Tt = t["ids"].shape
        if "mask" not in t:
            t = dict(t, mask=torch.ones((n, Tt), dtype=torch.bool), lengths=torch.full((n,), Tt))
            t["mask"][:, -1] = False
        t = dict(t, group=torch.full((n,), g))   # each source is averaged on its own (consolidate._step_loss)
        for key, v in t.items():
            if v.dim() > 1 and v.shape[1] < T:   # pad the position axis; the mask keeps pads out
                v = torch.cat([v, v.new_zeros((n, T - Tt) + tuple(v.shape[2:]))], 1)
            out.setdefault(key, []).append(v)
    return {key: torch.cat(v) for key, v in out.items()}


def pick_targets(t: dict, n: int, seed: int) -> dict | None:
    """n rows of a text_targets result, drawn without replacement."""
    if not t or n <= 0:
        return None
    pick = random.Random(seed).sample(range(len(t["ids"])), min(n, len(t["ids"])))
    return {k: v[pick] for k, v in t.items()}


def answer_targets(lm, chat_pairs: list, raw_pairs: list, k: int = TOP_K) -> dict:
    """text_targets over (question, answer) chats and (prompt, completion) raw texts, kept from the
    prompt's last token (which predicts the answer's first) to the end of the answer."""
    rows = encode_chat(lm.tok, chat_pairs) + encode_raw(lm.tok, raw_pairs)
    starts = [sum(1 for y in labels if y == IGNORE) - 1 for _, labels, _ in rows]
    return text_targets(lm, [ids for ids, _, _ in rows], k, starts)


def knowledge_questions() -> list:
    return json.loads(KNOWLEDGE.read_text())["questions"]


def make_anchors(lm, n_replay: int = 40, n_text: int = 16, per_relation: int = 4, seed: int = 0,
                 text_tokens: int = 96, n_knowledge: int = 135) -> dict:
    rng = random.Random(seed)
    know = knowledge_questions()[:n_knowledge]
    general = REPLAY_PROMPTS[:n_replay]
    answers = [a.strip() for a in ask_chat(lm, general + [k["chat_question"] for k in know], max_new_tokens=40)]
    replay = list(zip(general, answers[:len(general)]))
    know_chat = [(k["chat_question"], a) for k, a in zip(know, answers[len(general):])]
    replay += [(q, a) for (q, a), k in zip(know_chat, know) if contains(a, k["answer"])]
    raw_prompts = [k["raw_prompt"] for k in know]
    know_raw = list(zip(raw_prompts, complete_raw(lm, raw_prompts, max_new_tokens=8)))
    raw = [{"prompt": p, "completion": c} for (p, c), k in zip(know_raw, know) if contains(c, k["answer"])]
    qs, rels = [], []
    for rel, (q, *_) in TRAIN_QUESTIONS.items():   # the first wording, as consolidation asks it
        for person in rng.sample(CONTRAST_PEOPLE, per_relation):
            qs.append(q.format(s=person))
            rels.append(rel)
    for person in rng.sample(CONTRAST_PEOPLE, per_relation):       # "Tell me about X." for the generic wordings
        qs.append(rng.choice(GENERIC_QUESTIONS).format(s=person))
        rels.append("*")
    answers = [a.strip() for a in ask_chat(lm, qs, max_new_tokens=32)]
    contrast = [{"relation": r, "question": q, "answer": a} for r, q, a in zip(rels, qs, answers)]
    text = text_targets(lm, text_chunks(lm.tok, n_text, text_tokens, seed))
    # Every knowledge question, right or wrong at birth: the distribution is held as it was, so a wrong
    # answer is not taught (as greedy replay would), only kept no likelier than it was.
    know_t = answer_targets(lm, know_chat, know_raw)
    return {"replay": [{"question": q, "answer": a} for q, a in replay], "raw": raw, "contrast": contrast,
            "text": text, "know": know_t}


# -- kept on disk ------------------------------------------------------------------------------------
def weights_fingerprint(lm) -> str | None:
    """A hash of every parameter at up to 4096 evenly spaced entries. An edit (rank-one updates touch
    every entry) or a fused adapter changes it; the model as loaded always gives the same one. None
    when some weights are offloaded by accelerate (not readable here): then nothing is cached."""
    h = hashlib.sha256()
    for name, p in lm.model.named_parameters():
        if p.device.type == "meta":
            return None
        h.update(f"{name}:{tuple(p.shape)}:{p.dtype}".encode())
        flat = p.detach().reshape(-1)
        sample = flat[::max(1, flat.numel() // 4096)].contiguous().cpu()
        h.update(sample.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def _recipe_id(kw: dict) -> str:
    """What the anchors depend on besides the weights: the arguments and the code and data that turn
    them into anchors (a change to any of these files makes a new cache entry, never a stale hit)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(json.dumps(kw, sort_keys=True).encode())
    for f in (root / "sleep" / "anchors.py", root / "sleep" / "anchor_files.py", root / "base" / "tokens.py",
              root / "measure" / "evaluate.py", root / "measure" / "facts.py", root / "wake" / "relations.py",
              KNOWLEDGE):
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def birth_anchors(lm, **kw) -> dict:
    """make_anchors(lm, **kw), cached under $LOGOS_CACHE/anchors/: the birth model's answers and
    distributions are the same for every memory started on the same weights with the same settings
    (each notebook arm, each test, each `logos` state), and making them is most of a first sleep on
    a CPU (hundreds of greedy answers). Keyed by the weights as they are now (weights_fingerprint),
    so anchors are never taken from a cache made on other weights."""
    fingerprint = weights_fingerprint(lm)
    if fingerprint is None:
        return make_anchors(lm, **kw)
    d = cache_dir() / "anchors" / lm.weights_id
    key = f"{fingerprint}_{_recipe_id(kw)}"
    json_path, tensor_path = d / f"{key}.json", d / f"{key}.safetensors"
    if json_path.exists():
        try:
            return join_anchors(json.loads(json_path.read_text()), load_file(str(tensor_path)))
        except Exception:   # a damaged cache entry is made again, not trusted
            pass
    anchors = make_anchors(lm, **kw)
    d.mkdir(parents=True, exist_ok=True)
    write_anchors(anchors, json_path, tensor_path)
    return anchors
