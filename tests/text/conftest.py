"""A tiny random-initialised BERT saved like a real backbone folder, for offline unit tests."""

import pytest

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + "a fine film dull the movie is good bad not very long".split()


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory):
    torch = pytest.importorskip("torch", reason="the text extra (pip install 'hgzoo[text]') is not installed")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(WORDS), hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=64)
    folder = tmp_path_factory.mktemp("tiny_bert")
    transformers.BertModel(config).save_pretrained(folder)
    transformers.BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, tiny_backbone):
    """A tiny random LLaMA (decoder-only, causal attention, final RMSNorm) with the tiny BERT's tokenizer."""
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=len(WORDS), hidden_size=8, intermediate_size=16, num_hidden_layers=3,
                                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                                      pad_token_id=0)
    folder = tmp_path_factory.mktemp("tiny_llama")
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(str(tiny_backbone)).save_pretrained(folder)
    return folder
