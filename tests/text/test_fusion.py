"""FusionExtractor: a decoder LLM's layer streams plus encoder sentence embeddings as LLMEmbed's inputs."""

import keras
import numpy as np
import pytest

from hgzoo.cli.main import main
from hgzoo.text import FeatureExtractor, FusionExtractor, LLMEmbed

TEXTS = ["a fine film", "dull", "the movie is not very good a long film"]


def test_fusion_inputs_build_save_and_rebuild_the_head(tiny_llama, tiny_backbone, tmp_path):
    fusion = FusionExtractor(str(tiny_llama), encoders=[str(tiny_backbone)], layers=(-1, -2), cache_dir=False)
    streams, encoder = fusion.extract(TEXTS, progress=False)
    assert streams.shape == (3, 2, 8) and encoder.shape == (3, 8)
    alone = FeatureExtractor(tiny_backbone, layers=(-1,), cache_dir=False).extract(TEXTS, progress=False)[:, 0]
    np.testing.assert_allclose(encoder, alone, atol=1e-6)  # the encoder's own sentence embedding (masked mean)
    head = fusion.build_head(2, projection_dim=8, hidden_units=(8,))
    assert head.get_config()["extra_dims"] == [8] and tuple(head([streams, encoder]).shape) == (3, 2)
    head.save(tmp_path / "head.keras")
    loaded = keras.saving.load_model(tmp_path / "head.keras")
    assert FusionExtractor.for_head(loaded, cache_dir=False).config() == fusion.config()
    # raw text in, probabilities out: the loaded head embeds with the backbones it records
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(head.predict([streams, encoder], verbose=0), axis=-1))
    np.testing.assert_allclose(loaded.predict_texts(TEXTS, cache_dir=False), expected, atol=1e-5)
    np.testing.assert_allclose(loaded.predict(TEXTS, verbose=0), expected, atol=1e-5)  # Keras predict, raw text
    np.testing.assert_allclose(loaded.predict([streams, encoder], verbose=0), head.predict([streams, encoder],
                                                                                            verbose=0), atol=1e-6)
    with pytest.raises(TypeError, match="list of texts"):
        loaded.predict_texts("a fine film")
    alone = FusionExtractor(str(tiny_llama), encoders=(), layers=(-1,), cache_dir=False)
    assert isinstance(alone.extract(TEXTS[:1], progress=False), np.ndarray)  # streams only: the one input itself


def test_a_head_without_its_encoders_cannot_rebuild_them():
    head = LLMEmbed(2, num_layers=2, feature_dim=8, extra_dims=(8,), projection_dim=8, hidden_units=(8,),
                    encoder={"backbone": "x", "layers": [-1, -2]})
    with pytest.raises(ValueError, match="does not record the backbones of its inputs .* 0 of 1 extra encoders"):
        FusionExtractor.for_head(head)
    with pytest.raises(ValueError, match="2 extra_encoders for 1 extra_dims"):
        LLMEmbed(2, extra_dims=(8,), extra_encoders=[{}, {}])


def test_cli_trains_and_predicts_with_extra_encoders(tiny_llama, tiny_backbone, tmp_path, capsys):
    rows = [("a fine film", "pos"), ("good movie", "pos"), ("dull", "neg"), ("a bad movie", "neg")]
    data = tmp_path / "train.tsv"
    data.write_text("".join(f"{t}\t{l}\n" for t, l in rows * 3))
    out = tmp_path / "run"
    assert main(["text", "train", "--data", str(data), "--out", str(out), "--backbone", str(tiny_llama),
                 "--extra-backbones", str(tiny_backbone), "--layers", "-1", "-2", "--epochs", "1",
                 "--batch-size", "4", "--threads", "1", "--standardize", "--cache-dir", str(tmp_path / "cache")]) == 0
    head = keras.saving.load_model(out / "model.keras")
    assert head.extra_encoders[0]["backbone"] == str(tiny_backbone) and head.encoder["backbone"] == str(tiny_llama)
    assert float(np.abs(keras.ops.convert_to_numpy(head.get_layer("layer_standardize").mean)).sum()) > 0  # adapted
    texts = tmp_path / "texts.txt"
    texts.write_text("a good film\nvery dull\n")
    capsys.readouterr()
    assert main(["text", "predict", "--model", str(out), "--data", str(texts), "--unlabelled",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
