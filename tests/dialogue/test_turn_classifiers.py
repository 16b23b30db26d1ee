"""StrategyClassifier and AttitudeTracker: harness, training on a corpus, export, the PersuasionForGood reader."""

import csv

import keras
import numpy as np
import pytest

from hgzoo.dialogue import (AttitudeTracker, StrategyClassifier, read_persuasion_for_good, turn_examples)
from hgzoo.errors import InvalidTextDataError
from hgzoo.testing import run_export_test, run_model_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too

SMALL = {"num_layers": 2, "feature_dim": 8, "projection_dim": 8, "hidden_units": (8,)}


def features(n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2, 8)).astype("float32")


def test_strategy_classifier_harness():
    model = run_model_test(StrategyClassifier, SMALL, [features()], expected_output_shape=(4, 11),
                           expected_num_trainable_weights=6, expected_num_non_trainable_weights=3,
                           target=np.array([0, 1, 2, 10]), float32_outputs=True, atol=1e-4)
    assert model.class_names[0] == "non-strategy" and model.class_names[4] == "foot-in-the-door"


def test_attitude_tracker_harness():
    previous = np.eye(17, dtype="float32")[[16, 0, 3, 15]]
    model = run_model_test(AttitudeTracker, SMALL, [features(), previous], expected_output_shape=(4, 16),
                           expected_num_trainable_weights=8, expected_num_non_trainable_weights=6,
                           target=np.array([0, 1, 2, 15]), atol=1e-4, mixed_precision=False,
                           subprocess_checks=False,
                           reason="the StrategyClassifier harness runs these on the same LLMEmbed layers; the "
                           "tracker adds one Dense stream with no dtype or saved state of its own")
    assert [i.name for i in model.inputs] == ["layer_embeddings", "extra_embeddings_0"]


def _records():
    """Two dialogues whose strategy and attitude labels a head can learn from fake 'embeddings'."""
    turns = [{"speaker": "persuader", "text": f"Children need help {i}", "strategy": "emotion-appeal"}
             if i % 2 else {"speaker": "persuader", "text": f"Here are the facts {i}", "strategy": "logical-appeal"}
             for i in range(8)]
    for i, t in enumerate(list(turns)):
        turns.insert(2 * i + 1, {"speaker": "user", "text": f"reply {i}", "attitude": "curious" if i % 2 else "skeptical"})
    return [{"index": 0, "turns": turns[:8]}, {"index": 1, "turns": turns[8:]}]


def test_strategy_classifier_fits_corpus_turns():
    examples = turn_examples(_records(), "strategy")
    assert len(examples) == 8 and set(examples.labels) == {1, 2}
    # Stand-in features: one direction per label, so fit must separate them.
    x = np.stack([np.full((2, 8), 1.0 if y == 2 else -1.0) for y in examples.labels]).astype("float32")
    x += np.random.default_rng(0).normal(scale=0.1, size=x.shape).astype("float32")
    keras.utils.set_random_seed(0)
    model = StrategyClassifier(**SMALL)
    model.adapt(x)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, examples.labels, epochs=30, batch_size=8, verbose=0)
    assert np.mean(np.argmax(model.predict(x, verbose=0), -1) == examples.labels) == 1.0


def test_attitude_examples_carry_the_previous_state():
    examples = turn_examples(_records(), "attitude")
    assert examples.previous.shape == (8, 17)
    assert examples.previous[0, 16] == 1  # the first user turn follows "start"
    assert examples.class_names[np.argmax(examples.previous[1])] == examples.class_names[examples.labels[0]]
    with pytest.raises(InvalidTextDataError, match="not one of"):
        turn_examples([{"index": 0, "turns": [{"speaker": "user", "text": "x", "attitude": "ecstatic"}]}], "attitude")


def test_an_empty_user_turn_still_moves_the_previous_state_on():
    turns = [{"speaker": "user", "text": "Why?", "attitude": "skeptical"},
             {"speaker": "user", "text": " ", "attitude": "curious"},
             {"speaker": "user", "text": "OK, I give.", "attitude": "agreeing"}]
    examples = turn_examples([{"index": 0, "turns": turns}], "attitude")
    assert examples.texts == ["Why?", "OK, I give."]
    assert examples.class_names[int(examples.previous[1].argmax())] == "curious"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = AttitudeTracker(**SMALL)
    previous = np.eye(17, dtype="float32")[[16, 2]]
    served = run_export_test(model, {"layer_embeddings": features(2), "previous_state": previous},
                             {"inputs": {"layer_embeddings": "float32", "previous_state": "float32"},
                              "outputs": {"classes": "int32", "probabilities": "float32"}})
    np.testing.assert_allclose(served["probabilities"].sum(-1), 1.0, atol=1e-5)


P4G_ROWS = [["", "B2", "B4", "Turn", "Unit", "er_label_1", "ee_label_1"],
            ["0", "d1", "0", "0", "Hello, how are you?", "greeting", ""],
            ["1", "d1", "1", "0", "Fine, thanks.", "", "greeting"],
            ["2", "d1", "0", "1", "Save the Children helps kids in 120 countries.", "provide-org-facts", ""],
            ["3", "d1", "0", "2", "Even 50 cents would help.", "foot-in-the-door", ""],
            ["4", "d2", "0", "0", "I donate every month myself.", "example-donation", ""]]


def test_persuasion_for_good_reader_csv_and_xlsx(tmp_path):
    path = tmp_path / "300_dialog.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(P4G_ROWS)
    examples = read_persuasion_for_good(str(path))
    assert [examples.class_names[y] for y in examples.labels] == [
        "non-strategy", "credibility-appeal", "foot-in-the-door", "self-modeling"]
    assert examples.dialogues == ["d1", "d1", "d1", "d2"] and examples.raw_labels == {"greeting": 1}
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in P4G_ROWS:
        book.active.append([int(v) if v.isdigit() else v for v in row])
    book.save(tmp_path / "300_dialog.xlsx")
    xlsx = read_persuasion_for_good(str(tmp_path / "300_dialog.xlsx"))
    assert xlsx.texts == examples.texts and list(xlsx.labels) == list(examples.labels)


def test_persuasion_for_good_reader_refuses_other_files(tmp_path):
    (tmp_path / "x.csv").write_text("text,label\nhi,1\n")
    with pytest.raises(InvalidTextDataError, match=r"lacks column\(s\) \['B2', 'B4', 'Unit', 'er_label_1'\]"):
        read_persuasion_for_good(str(tmp_path / "x.csv"))
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InvalidTextDataError, match="cannot read"):
        read_persuasion_for_good(str(tmp_path / "bad.xlsx"))
    with pytest.raises(InvalidTextDataError, match="does not exist"):
        read_persuasion_for_good(str(tmp_path / "missing.xlsx"))
