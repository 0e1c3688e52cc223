"""Build the two text files every experiment uses, from sources already on a Debian machine.

    stats_corpus.txt  ~130k tokens: the text whose MLP keys give the covariance statistics
    heldout.txt       ~25k tokens: held-out text for perplexity drift, disjoint from the above

Run once (needs `apt-get install wordnet-base`); the outputs are committed, so nothing is fetched at
run time. Sources and licences (see README.md in this folder):
  * WordNet 3.0 glosses and example sentences (Princeton WordNet licence, redistribution permitted
    with its notice): short definitions of ~117k senses across every domain of ordinary English.
  * Python's own documentation topics, `pydoc_data/topics.py` (PSF licence): running prose.
Why representative: MEMIT needs E[k k^T] over the keys the model sees in everyday use; definitions
with example sentences cover general vocabulary of all topics, the documentation adds long-form prose.
"""
import random
import re
from pathlib import Path

import pydoc_data.topics as topics

WORDNET = Path("/usr/share/wordnet")
HERE = Path(__file__).resolve().parent
SEED = 7
CHARS_PER_TOKEN = 4.2   # measured on this tokenizer for this text
STATS_TOKENS, HELDOUT_TOKENS = 130_000, 25_000


def wordnet_paragraphs() -> list:
    paras = []
    for pos, name in (("noun", "noun"), ("verb", "verb"), ("adj", "adjective"), ("adv", "adverb")):
        for line in (WORDNET / f"data.{pos}").read_text(errors="ignore").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # licence header
            head, gloss = line.split("|", 1)
            lemma = head.split()[4].replace("_", " ")
            parts = [p.strip() for p in gloss.strip().split(";") if p.strip()]
            defs = [p for p in parts if not p.startswith('"')]
            exs = [p.strip('"') for p in parts if p.startswith('"')]
            if not defs:
                continue
            text = f"{lemma[0].upper() + lemma[1:]} ({name}): {'; '.join(defs)}."
            if exs:
                text += " For example: " + " ".join(e[0].upper() + e[1:] + ("" if e[-1] in ".!?" else ".") for e in exs if e)
            paras.append(text)
    return paras


def python_doc_paragraphs() -> list:
    paras = []
    for body in topics.topics.values():
        for block in re.split(r"\n\s*\n", body):
            block = " ".join(block.split())
            if len(block) > 200 and block.count(" ") > 30 and not block.startswith(("***", ">>>")):
                paras.append(block)
    return paras


def main() -> None:
    rng = random.Random(SEED)
    wn, py = wordnet_paragraphs(), python_doc_paragraphs()
    rng.shuffle(wn)
    rng.shuffle(py)

    def take(pool, chars):
        out, n = [], 0
        while pool and n < chars:
            p = pool.pop()
            out.append(p)
            n += len(p) + 1
        return out

    # Held-out first, so the statistics text never contains it; 75% definitions, 25% prose.
    for name, tokens in (("heldout.txt", HELDOUT_TOKENS), ("stats_corpus.txt", STATS_TOKENS)):
        chars = tokens * CHARS_PER_TOKEN
        paras = take(wn, 0.75 * chars) + take(py, 0.25 * chars)
        rng.shuffle(paras)
        # Group into documents of ~8 paragraphs so windows hold running text, not one line each.
        docs = ["\n".join(paras[i:i + 8]) for i in range(0, len(paras), 8)]
        (HERE / name).write_text("\n\n".join(docs) + "\n")
        print(name, sum(map(len, paras)), "chars")


if __name__ == "__main__":
    main()
