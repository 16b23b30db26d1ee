"""The GBU protocol: metrics on hand-made cases, the loaders on every shipped att_splits.mat, bad data."""

import numpy as np
import pytest
from scipy import io

from hgzoo.zeroshot import (ZSKL, InvalidZSLDataError, ZSLData, evaluate_zskl, gzsl_metrics, harmonic_mean,
                            load_att_splits, load_features, load_gbu, per_class_accuracy)

from .conftest import DATASETS


# (classes, attributes, trainval, test_seen, test_unseen) of the proposed splits (Xian et al., Table 1)
GBU_SIZES = {"APY": (32, 64, 5932, 1483, 7924), "AWA1": (50, 85, 19832, 4958, 5685),
             "AWA2": (50, 85, 23527, 5882, 7913), "CUB": (200, 312, 7057, 1764, 2967),
             "SUN": (717, 102, 10320, 2580, 1440), "FLO": (102, 1024, 5631, 1403, 1155)}


def test_per_class_accuracy_weighs_classes_not_samples():
    # class 0: 9 of 10 right; class 1: 0 of 1 right -> (0.9 + 0) / 2, not 9 / 11
    y_true = [0] * 10 + [1]
    y_pred = [0] * 9 + [1] + [0]
    assert per_class_accuracy(y_true, y_pred) == pytest.approx(0.45)
    assert per_class_accuracy([3, 3, 7], [3, 3, 7]) == 1.0
    assert per_class_accuracy([2, 5], [5, 2]) == 0.0
    with pytest.raises(ValueError, match="same length"):
        per_class_accuracy([1, 2], [1])


def test_gzsl_u_s_h_on_a_hand_made_confusion():
    # seen classes 0, 1; unseen 2, 3; predictions over all four classes
    unseen_true, unseen_pred = [2, 2, 3, 3], [2, 0, 3, 3]  # class 2: 1/2, class 3: 2/2 -> u = 0.75
    seen_true, seen_pred = [0, 0, 0, 1], [0, 0, 2, 1]  # class 0: 2/3, class 1: 1/1 -> s = 5/6
    m = gzsl_metrics(unseen_true, unseen_pred, seen_true, seen_pred)
    assert m["u"] == pytest.approx(0.75) and m["s"] == pytest.approx(5 / 6)
    assert m["H"] == pytest.approx(2 * 0.75 * (5 / 6) / (0.75 + 5 / 6))
    assert harmonic_mean(0.0, 0.0) == 0.0 and harmonic_mean(0.0, 1.0) == 0.0


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_shipped_att_splits_loads_and_trains_on_synthetic_features(dataset, zsl_dir, tmp_path):
    meta = load_att_splits(zsl_dir / dataset / "att_splits.mat")
    classes, attributes, *sizes = GBU_SIZES[dataset]
    assert meta["attributes"].shape == (classes, attributes)
    assert len(meta["class_names"]) == classes
    assert [meta["splits"][k].size for k in ("trainval", "test_seen", "test_unseen")] == sizes
    n = max(int(np.max(v)) for v in meta["splits"].values()) + 1
    # synthetic features in res101.mat's layout: one noisy copy of the class attributes per sample
    rng = np.random.default_rng(0)
    labels = np.zeros(n, np.int64)
    # labels are not in att_splits.mat: give each split classes of its role (train and val classes disjoint)
    seen, unseen = np.arange(classes)[: classes - classes // 4], np.arange(classes)[classes - classes // 4:]
    train, val = seen[: len(seen) - len(seen) // 4], seen[len(seen) - len(seen) // 4:]
    labels[:] = seen[0]
    for key, pool in (("trainval", seen), ("test_seen", seen), ("train", train), ("val", val),
                      ("test_unseen", unseen)):
        where = meta["splits"].get(key, np.zeros(0, np.int64))  # APY and CUB ship no train / val split
        labels[where] = rng.choice(pool, where.size)
    features = meta["attributes"][labels] @ rng.standard_normal((attributes, 16)) + 0.1 * rng.random((n, 16))
    io.savemat(tmp_path / "res101.mat", {"features": features.T, "labels": labels[:, None] + 1})
    io.savemat(tmp_path / "att_splits.mat", io.loadmat(zsl_dir / dataset / "att_splits.mat"))
    data = load_gbu(tmp_path)
    assert data.features.shape == (n, 16) and data.labels.max() < classes
    subset = {k: data.splits[k][:60] for k in ("trainval", "test_seen", "test_unseen")}
    small = ZSLData(data.features, data.labels, data.attributes, subset, data.class_names, data.source)
    model = ZSKL(feature_dim=16, attribute_dim=attributes, num_classes=1, seed=0)  # shapes, not learning
    result = evaluate_zskl(model, small.preprocessed())
    assert set(result) == {"zsl", "u", "s", "H"} and all(0.0 <= v <= 1.0 for v in result.values())


def test_class_names_are_read(zsl_dir):
    meta = load_att_splits(zsl_dir / "AWA2" / "att_splits.mat")
    assert meta["class_names"][:2] == ["antelope", "grizzly+bear"]


def test_missing_features_file_names_it_and_where_it_comes_from(zsl_dir):
    with pytest.raises(FileNotFoundError, match=r"res101\.mat.*xlsa17"):
        load_gbu(zsl_dir / "AWA2")


def _data(**overrides):
    rng = np.random.default_rng(0)
    values = {"features": rng.random((6, 3)), "labels": np.array([0, 0, 1, 1, 2, 2]), "attributes": rng.random((3, 2)),
              "splits": {"trainval": [0, 2], "test_seen": [1, 3], "test_unseen": [4, 5]}}
    return ZSLData(**{**values, **overrides})


@pytest.mark.parametrize("overrides,match", [
    ({"attributes": np.random.rand(2, 2)}, "attribute matrix has 2 classes but the labels go from 0 to 2"),
    ({"features": np.array([[np.nan, 0, 0]] + [[0, 0, 0]] * 5)}, "NaN"),
    ({"splits": {"trainval": [0, 4], "test_seen": [1], "test_unseen": [5]}}, r"unseen classes \[2\] also occur"),
    ({"splits": {"trainval": [0], "test_seen": [1]}}, "test_unseen"),
    ({"splits": {"trainval": [0, 9], "test_seen": [1], "test_unseen": [5]}}, "up to 9"),
    ({"features": np.random.rand(5, 3)}, "N = 6 labels"),
])
def test_bad_data_is_refused_with_the_fix(overrides, match):
    with pytest.raises(InvalidZSLDataError, match=match):
        _data(**overrides)


def test_mat_file_missing_a_key_is_named(tmp_path):
    io.savemat(tmp_path / "att_splits.mat", {"att": np.random.rand(3, 4), "trainval_loc": np.array([[1]])})
    with pytest.raises(InvalidZSLDataError, match="no key 'test_seen_loc'"):
        load_att_splits(tmp_path / "att_splits.mat")
    io.savemat(tmp_path / "res101.mat", {"features": np.random.rand(4, 3)})
    with pytest.raises(InvalidZSLDataError, match="no key 'labels'"):
        load_features(tmp_path / "res101.mat")
    (tmp_path / "junk.mat").write_text("not a mat file")
    with pytest.raises(InvalidZSLDataError, match="not a readable MATLAB"):
        load_att_splits(tmp_path / "junk.mat")
