"""The retrieval baseline (RAG) on the real embedding model and the bundled language model."""
import pytest
import torch

from logos_core.base.errors import LogosError
from logos_core.base.tokens import chat_text
from logos_core.measure import evaluate as E
from logos_core.measure.facts import Fact


@pytest.fixture(scope="module")
def embedder():
    from logos_core.lab.retrieval import Embedder

    return Embedder()


@pytest.fixture()
def rag(lm, embedder):
    from logos_core.lab.retrieval import RetrievalMachine

    return RetrievalMachine(lm, k=3, embedder=embedder)


def test_embeddings_are_unit_vectors_and_meaningful(embedder):
    v = embedder(["Aria lives in Portland.", "Where does Aria live?", "The stock market fell sharply today."])
    assert v.shape == (3, embedder.dim) and embedder.dim == 384
    assert torch.allclose(v.norm(dim=-1), torch.ones(3), atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.2   # the question sits nearer its statement than unrelated news


def test_each_question_retrieves_its_own_statement(rag, bank):
    facts = bank.sample(20, seed=3)
    rag.inject(facts)
    found = [f.statement in rag.retrieve(f.chat_question) for f in facts]
    assert sum(found) >= 19, [f.chat_question for f, ok in zip(facts, found) if not ok]


def test_prompts_carry_the_retrieved_statements_only_when_something_is_stored(rag, bank, lm):
    f = bank.sample(1, seed=5)[0]
    assert E.chat_prompts(rag.lm, [f.chat_question]) == [chat_text(lm.tok, f.chat_question)]
    assert E.raw_prompts(rag.lm, [f.raw_prompt]) == [f.raw_prompt]
    rag.inject([f])
    chat = E.chat_prompts(rag.lm, [f.chat_question])[0]
    assert chat.index(f.statement) < chat.index(f.chat_question)
    assert E.raw_prompts(rag.lm, [f.raw_prompt])[0] == f.statement + "\n\n" + f.raw_prompt


def test_answers_come_from_the_retrieved_facts(rag, bank, lm):
    """Greedy chat answers: the base model knows none of the invented people; through retrieval it
    names most objects (measured 0.7 on these 10)."""
    facts = bank.sample(10, seed=3)
    assert E.recall(lm, facts, modes=("chat",))["chat"] == 0.0
    rag.inject(facts)
    assert E.recall(rag.lm, facts, modes=("chat",))["chat"] >= 0.5


def test_contradiction_replaces_and_store_round_trips(rag, bank, embedder, lm, tmp_path):
    from logos_core.lab.retrieval import RetrievalMachine

    facts = bank.sample(4, seed=7)
    rag.inject(facts)
    old = facts[0]
    new = Fact(**{**old.to_dict(), "object": "Reykjavik", "statement": old.statement.replace(old.object, "Reykjavik"),
                  "paraphrases": tuple(old.paraphrases)})
    rep = rag.inject([new, facts[1]])
    assert rep.replaced == [(old, new)] and rep.known == [facts[1]]
    assert len(rag.facts()) == 4 and old not in rag.facts() and new in rag.facts()
    rag.save(tmp_path / "store")
    back = RetrievalMachine.load(lm, tmp_path / "store", embedder=embedder)
    assert [f.statement for f in back.facts()] == [f.statement for f in rag.facts()]
    for f in rag.facts():
        assert back.retrieve(f.chat_question) == rag.retrieve(f.chat_question)
    (tmp_path / "store" / "facts.json").write_text('{"k": 3, "facts": []}')
    with pytest.raises(LogosError, match="damaged"):
        RetrievalMachine.load(lm, tmp_path / "store", embedder=embedder)
