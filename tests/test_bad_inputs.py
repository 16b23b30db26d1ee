"""Every family's entry points against every bad input of their kind (hgzoo.testing.bad_inputs).

A new family adds its loaders, models and commands to ENTRY_POINTS; the
catalogue of bad inputs grows in hgzoo/testing/bad_inputs.py and then runs
against every entry point of that kind.
"""

import dataclasses
import functools

import numpy as np
import pytest

from hgzoo._families import FAMILY_NAMES
from hgzoo.testing.bad_inputs import BAD_INPUTS, assert_refused


@dataclasses.dataclass(frozen=True)
class EntryPoint:
    family: str
    kind: str
    name: str
    call: object  # call(bad value); a CLI entry point returns the argv to run instead

    cli: bool = False


@functools.cache
def tiny_dmphn():
    from hgzoo.deblur import DMPHN

    return DMPHN(levels=(1, 2))


@functools.cache
def tiny_sosn():
    from hgzoo.fewshot import SoSN

    return SoSN(image_size=(28, 28), channels=1)


@functools.cache
def tiny_salnet():
    from hgzoo.fewshot import SalNet

    return SalNet(image_size=(28, 28))


def _salnet_weights(path):
    from hgzoo.fewshot import SalNet

    return SalNet(image_size=(28, 28), pretrained=path)


def _zeroshot_loader(name):
    def load(path):
        import hgzoo.zeroshot

        return getattr(hgzoo.zeroshot, name)(path)

    return load


def _scatter_alignment_weights(path):
    from hgzoo.domain import ScatterAlignmentNet

    return ScatterAlignmentNet(num_classes=2, image_size=(8, 8), filters=(4,), feature_dim=4, pretrained=path)


def _anomaly_features(folder):
    from hgzoo.anomaly import extract_features

    return extract_features(folder, progress=False)


def batched(episode):
    support, labels, query = episode
    return {"support_images": np.asarray(support)[None], "support_labels": np.asarray(labels)[None],
            "query_images": np.asarray(query)[None]}


def _deblur_file(path):
    from hgzoo.deblur import deblur

    return deblur(tiny_dmphn(), path)


def _dmphn_weights(path):
    from hgzoo.deblur import DMPHN

    return DMPHN(levels=(1, 2), pretrained=path)


def _sosn_weights(path):
    from hgzoo.fewshot import SoSN

    return SoSN(image_size=(28, 28), channels=1, pretrained=path)


def _llmembed_weights(path):
    from hgzoo.text import LLMEmbed

    return LLMEmbed(num_classes=2, num_layers=2, feature_dim=8, pretrained=path)


def _read_image(path):
    from hgzoo.data.images import read_image

    return read_image(path)


def _load_checkpoint(path):
    from hgzoo.weights.torch_pickle import load_torch_state_dict

    return load_torch_state_dict(path)


def _read_tsv(path):
    from hgzoo.text import read_tsv

    return read_tsv(path)


def _class_pool(path):
    from hgzoo.data.image_classes import ImageClasses

    return ImageClasses.from_folder(path)


def _check_episode(episode):
    from hgzoo.fewshot import check_episode

    return check_episode(*batched(episode).values())


@functools.cache
def tiny_mlso():
    from hgzoo.fewshot import MlSo

    return MlSo(image_size=(28, 28), channels=1, filters=16, width=48, relation_filters=8, discriminator_hidden=8)


@functools.cache
def tiny_spatial_matching():
    from hgzoo.fewshot import SpatialMatching

    return SpatialMatching(image_size=(28, 28), channels=1, filters=8, embed_dim=8)


@functools.cache
def tiny_cross_transformer():
    from hgzoo.fewshot import CrossTransformer

    return CrossTransformer(image_size=(28, 28), channels=1, filters=8, key_dim=8)


@functools.cache
def tiny_arl():
    from hgzoo.fewshot import ARL

    return ARL(tiny_sosn(), class_embeddings=np.eye(8, 4, dtype=np.float32))


@functools.cache
def tiny_arn():
    from hgzoo.action import ARN

    return ARN(frames=4, image_size=(16, 16), channels=1, filters=16, relation_filters=16, discriminator_hidden=8)


def _clip_episode(call):
    """An image episode as one-frame clips (B, count, 1, H, W, C), passed to ``call``."""
    def run(episode):
        clips = {k: np.expand_dims(v, 2) if v.ndim == 5 else v for k, v in batched(episode).items()}
        return call({"support_clips": clips["support_images"], "support_labels": clips["support_labels"],
                     "query_clips": clips["query_images"]})

    return run


def _check_clip_episode(clips):
    from hgzoo.action import check_clip_episode

    return check_clip_episode(*clips.values())


ENTRY_POINTS = [
    # action
    EntryPoint("action", "episode", "check_clip_episode", _clip_episode(_check_clip_episode)),
    EntryPoint("action", "episode", "ARN.predict_on_batch", _clip_episode(lambda x: tiny_arn().predict_on_batch(x))),
    EntryPoint("action", "episode", "ARN(episode)", _clip_episode(lambda x: tiny_arn()(x))),
    # deblur
    EntryPoint("deblur", "image", "read_image", _read_image),
    EntryPoint("deblur", "image", "deblur(model, path)", _deblur_file),
    EntryPoint("deblur", "image", "hgzoo deblur run", lambda path: ["deblur", "run", path, "-o", "{out}",
                                                                    "--model", "dmphn_1_2_synthetic"], cli=True),
    EntryPoint("deblur", "pixels", "deblur(model, array)", lambda array: _deblur_file(array)),
    EntryPoint("deblur", "weights", "DMPHN(pretrained=path)", _dmphn_weights),
    EntryPoint("deblur", "checkpoint", "load_torch_state_dict", _load_checkpoint),
    # fewshot
    EntryPoint("fewshot", "episode", "check_episode", _check_episode),
    EntryPoint("fewshot", "episode", "SoSN.predict_on_batch", lambda e: tiny_sosn().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "episode", "SoSN.predict", lambda e: tiny_sosn().predict(batched(e), verbose=0)),
    EntryPoint("fewshot", "episode", "SoSN(episode)", lambda e: tiny_sosn()(batched(e))),
    EntryPoint("fewshot", "weights", "SoSN(pretrained=path)", _sosn_weights),
    EntryPoint("fewshot", "episode", "SalNet.predict_on_batch", lambda e: tiny_salnet().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "weights", "SalNet(pretrained=path)", _salnet_weights),
    EntryPoint("fewshot", "episode", "MlSo.predict_on_batch", lambda e: tiny_mlso().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "episode", "ARL.predict_on_batch", lambda e: tiny_arl().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "episode", "SpatialMatching.predict_on_batch",
               lambda e: tiny_spatial_matching().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "episode", "SpatialMatching(episode)", lambda e: tiny_spatial_matching()(batched(e))),
    EntryPoint("fewshot", "episode", "CrossTransformer.predict_on_batch",
               lambda e: tiny_cross_transformer().predict_on_batch(batched(e))),
    EntryPoint("fewshot", "episode", "CrossTransformer(episode)", lambda e: tiny_cross_transformer()(batched(e))),
    EntryPoint("fewshot", "image", "ImageClasses.from_folder", _class_pool),
    EntryPoint("fewshot", "image", "hgzoo fewshot evaluate",
               lambda path: ["fewshot", "evaluate", "--model", "sosn_omniglot", "--data", path, "--episodes", "1"],
               cli=True),
    # text
    EntryPoint("text", "tsv", "read_tsv", _read_tsv),
    EntryPoint("text", "tsv", "hgzoo text train", lambda path: ["text", "train", "--data", path, "--out", "{out}"],
               cli=True),
    EntryPoint("text", "weights", "LLMEmbed(pretrained=path)", _llmembed_weights),
    EntryPoint("zeroshot", "zsl_mat", "load_att_splits", _zeroshot_loader("load_att_splits")),
    EntryPoint("zeroshot", "zsl_mat", "load_features", _zeroshot_loader("load_features")),
    EntryPoint("domain", "weights", "ScatterAlignmentNet(pretrained=path)", _scatter_alignment_weights),
    EntryPoint("anomaly", "cert", "extract_features", _anomaly_features),
    EntryPoint("anomaly", "cert", "hgzoo anomaly features",
               lambda path: ["anomaly", "features", "--cert", path, "--output", "{out}.npz"], cli=True),
    # distill
    EntryPoint("distill", "weights", "ConvNet(pretrained=path)",
               lambda path: __import__("hgzoo.distill", fromlist=["ConvNet"]).ConvNet(width=4, pretrained=path)),
    EntryPoint("distill", "image", "hgzoo distill run",
               lambda path: ["distill", "run", "--data", path, "--out", "{out}", "--iterations", "1"], cli=True),
    EntryPoint("distill", "image", "hgzoo distill evaluate --synthetic",
               lambda path: ["distill", "evaluate", "--synthetic", path, "--test", path], cli=True),
    # dualpixel
    EntryPoint("dualpixel", "image", "read_pixel4_view",
               lambda path: __import__("hgzoo.dualpixel", fromlist=["x"]).read_pixel4_view(path)),
    EntryPoint("dualpixel", "pixels", "restore(model, left, right)",
               lambda a: __import__("hgzoo.dualpixel", fromlist=["x"]).restore(None, a, a)),
    # generation
    EntryPoint("generation", "weights", "IDDiffusion(pretrained=path)",
               lambda path: __import__("hgzoo.generation", fromlist=["x"]).IDDiffusion(
                   image_size=(16, 16), width=16, depth=1, heads=2, pretrained=path)),
    EntryPoint("generation", "image", "hgzoo generation generate --identity",
               lambda path: ["generation", "generate", "--model", "{out}.keras", "--identity", path,
                             "--layout", "0.3,0.5,0.5", "-o", "{out}"], cli=True),
    EntryPoint("generation", "pixels", "DlibIdentity().embed(pixels)",
               lambda a: __import__("hgzoo.generation", fromlist=["x"]).DlibIdentity().embed(a)),
    EntryPoint("generation", "pixels", "FaceMetrics().measure(images, layouts, refs)",
               lambda a: __import__("hgzoo.generation", fromlist=["x"]).FaceMetrics().measure(
                   np.asarray(a)[None], [[0.5, 0.5, 0.5]], np.ones((1, 128)))),
    # dialogue
    EntryPoint("dialogue", "tsv", "read_persuasion_for_good",
               lambda path: __import__("hgzoo.dialogue", fromlist=["x"]).read_persuasion_for_good(path)),
    EntryPoint("dialogue", "tsv", "hgzoo dialogue train --p4g",
               lambda path: ["dialogue", "train", "--p4g", path, "--out", "{out}"], cli=True),
    EntryPoint("dialogue", "weights", "StrategyClassifier(pretrained=path)",
               lambda path: __import__("hgzoo.dialogue", fromlist=["x"]).StrategyClassifier(
                   num_layers=2, feature_dim=8, pretrained=path)),
]

CASES = [(entry, bad) for entry in ENTRY_POINTS for bad in BAD_INPUTS[entry.kind]]


@pytest.mark.parametrize("entry,bad", CASES, ids=[f"{e.family}-{e.name}-{b.name}" for e, b in CASES])
def test_entry_point_refuses_bad_input(entry, bad, tmp_path, capsys):
    if not entry.cli:
        assert_refused(entry.call, bad, tmp_path)
        return
    from hgzoo.cli.main import main

    out = tmp_path / "out"
    argv = [str(a).replace("{out}", str(out)) for a in entry.call(bad.make(str(tmp_path)))]
    capsys.readouterr()
    status = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2, f"{bad!r}: `hgzoo {' '.join(argv)}` exited {status}"
    assert len(err) == 1 and err[0].startswith("hgzoo "), f"{bad!r}: expected one error line, got {err}"


def test_every_family_has_entry_points():
    missing = set(FAMILY_NAMES) - {e.family for e in ENTRY_POINTS}
    assert not missing, f"add the entry points of {sorted(missing)} to ENTRY_POINTS"


def test_every_kind_is_exercised():
    assert {e.kind for e in ENTRY_POINTS} == set(BAD_INPUTS)
