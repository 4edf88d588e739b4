"""The preset's stack runs a model: a tiny BERT built from a config and a tokenizer built
from a word list, so nothing is downloaded (conftest.py sets HF_HUB_OFFLINE)."""

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import BertConfig, BertForSequenceClassification

WORDS = ["[PAD]", "[UNK]", "the", "data", "is", "clean", "noisy"]


def test_a_tiny_model_classifies_sentences() -> None:
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(["the data is clean", "noisy data"])
    input_ids = torch.tensor([e.ids for e in encodings])
    attention_mask = torch.tensor([e.attention_mask for e in encodings])
    config = BertConfig(
        vocab_size=len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)

    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits

    assert input_ids.tolist()[1] == [WORDS.index("noisy"), WORDS.index("data"), 0, 0]
    assert tuple(logits.shape) == (2, 2)  # two sentences, two labels
    assert bool(torch.isfinite(logits).all())
