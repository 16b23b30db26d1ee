"""Real Omniglot: the readers, the pixel baseline, and the shipped sosn_omniglot preset."""

import numpy as np
import pytest

import hgzoo
from hgzoo.fewshot import evaluate_episodes, omniglot
from hgzoo.weights import manifest



@pytest.fixture(scope="module")
def runs(omniglot_dir):
    return omniglot.load_runs(omniglot_dir / "all_runs.zip")


def test_runs_are_twenty_20way_one_shot_episodes(runs):
    assert len(runs) == 20
    inputs, target = runs[0]
    assert inputs["support_images"].shape == (1, 20, 105, 105, 1)
    assert inputs["query_images"].shape == (1, 20, 105, 105, 1)
    assert (target.sum(-1) == 1).all() and (target[0].sum(0) == 1).all()  # one query per class
    assert 0.85 < inputs["query_images"].mean() < 0.98  # dark strokes on white


def test_background_characters(omniglot_dir):
    pool = omniglot.load_background(omniglot_dir / "images_background_small1.zip",
                                    omniglot_dir / "images_background_small2.zip")
    assert pool.image_shape == (105, 105, 1)
    assert all(len(a) == 20 for a in pool.images)  # 20 drawers per character
    assert pool.names[0].startswith("images_background_small1/")


def test_pixel_nearest_neighbour_is_weak(runs):
    correct = []
    for inputs, target in runs:
        s, q = inputs["support_images"][0].reshape(20, -1), inputs["query_images"][0].reshape(20, -1)
        correct.append(np.mean(((q[:, None] - s[None]) ** 2).sum(-1).argmin(1) == target[0].argmax(1)))
    assert 0.1 < np.mean(correct) < 0.35


def test_pretrained_sosn_reproduces_its_recorded_accuracy(runs):
    preset = manifest.get("sosn_omniglot")
    model = hgzoo.fewshot.SoSN(pretrained=True)
    assert model.pretrained_cfg["id"] == "sosn_omniglot"
    result = evaluate_episodes(model, runs, verbose=0)
    # One query of 400 is 0.25%; allow that much for float differences between machines.
    assert result["accuracy"] * 100 == pytest.approx(preset.metrics["runs_20way_1shot"], abs=0.26)
