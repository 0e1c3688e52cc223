"""The plain-torch path of `logos ask` and `logos remember` (base/llama.py, base/tokenizer.py) against
transformers on the bundled model: the same chat text, token ids and offsets; the same logits and hidden
states, padded batches included; the same greedy tokens."""
import pytest
import torch

from logos_core.base.tokens import right_pad

from logos_core.base.llama import Llama
from logos_core.base.tokenizer import FolderTokenizer
from logos_core.base.tokens import chat_text
from logos_core.base.weights import bundled_gguf, converted_folder, gguf_digest

TEXTS = ["Where does Aria Velkari live?", "What instrument does Soren Thelinde play?",
         "José Álvarez, Zoë Ødegaard and Łukasz Wiśniewski: who lives in Seville?",
         "Say {{ braces }}, {% not a tag %} and <|im_end|> back to me.", "two\nlines\tand  spaces ",
         "Aria Velkari lives in the city of", ""]


@pytest.fixture(scope="module")
def plain(lm):
    folder = converted_folder(gguf_digest(bundled_gguf()))
    return Llama.from_folder(folder), FolderTokenizer(folder)


def test_chat_text_and_ids_match_transformers(lm, plain):
    _, tok = plain
    for q in TEXTS:
        text = chat_text(tok, q)
        assert text == chat_text(lm.tok, q), q
        assert tok.encode(text) == lm.tok(text, add_special_tokens=False).input_ids, q
        ids = lm.tok(text, add_special_tokens=False).input_ids
        assert tok.decode(ids) == lm.tok.decode(ids, skip_special_tokens=True)
        assert tok.decode(ids, skip_special_tokens=False) == lm.tok.decode(ids, skip_special_tokens=False)


def test_logits_and_greedy_tokens_match_transformers(lm, plain):
    model, tok = plain
    for q in TEXTS[:4] + [None]:
        ids = tok.encode(chat_text(tok, q) if q is not None else TEXTS[5])   # chat, then raw completion
        with torch.no_grad():
            ref = lm.model(torch.tensor([ids])).logits[0, -1]
            got = model(input_ids=torch.tensor([ids])).logits[0, -1]
        assert (ref - got).abs().max() < 1e-3 * ref.abs().max(), (q, float((ref - got).abs().max()))
        gen = lm.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                max_new_tokens=24, do_sample=False, pad_token_id=lm.tok.pad_token_id,
                                temperature=None, top_p=None, top_k=None)[0, len(ids):].tolist()
        gen = [t for t in gen if t != lm.tok.eos_token_id]
        assert model.greedy(ids, 24, {lm.tok.eos_token_id}) == gen, q


def test_parameters_are_named_as_in_transformers(lm, plain):
    model, _ = plain
    for dedup in (True, False):          # the tied embedding and head are one tensor in both
        ours = {k: v.shape for k, v in model.named_parameters(remove_duplicate=dedup)}
        theirs = {k: v.shape for k, v in lm.model.named_parameters(remove_duplicate=dedup)}
        assert ours == theirs, set(ours) ^ set(theirs)


def test_padded_batches_and_tokenizer_calls_match_transformers(lm, plain):
    """What the wake asks of the model and the tokenizer (a right-padded batch with its mask, the final
    hidden states, ids with character offsets, the pad id) gives exactly what transformers gives: an
    edit written on the plain model is the one written on transformers' (tests/test_persist.py)."""
    model, tok = plain
    texts = [chat_text(tok, TEXTS[2]) + "José Álvarez lives in", TEXTS[5], "x"]
    for t in texts:
        ours, theirs = tok(t, return_offsets_mapping=True), lm.tok(t, add_special_tokens=False,
                                                                   return_offsets_mapping=True)
        assert ours.input_ids == theirs.input_ids and ours.offset_mapping == [tuple(o) for o in theirs.offset_mapping]
    assert tok.pad_token_id == lm.tok.pad_token_id
    ids, att = right_pad([tok(t).input_ids for t in texts], tok.pad_token_id)
    real = att.bool()
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids, attention_mask=att).logits[real],
                           lm.model(input_ids=ids, attention_mask=att).logits[real])
        assert torch.equal(model.base_model(input_ids=ids, attention_mask=att).last_hidden_state[real],
                           lm.model.base_model(input_ids=ids, attention_mask=att).last_hidden_state[real])
