"""The digit domains, the supervised-DA split and pipeline, and the Open MIC builder on a fake tree of its layout."""

import os

import numpy as np
import pytest

from hgzoo.domain.data import (
    check_domains,
    few_shot_split,
    load_digit_domain,
    load_mnist_digits,
    load_uci_digits,
    supervised_da_dataset,
)


def test_digit_domains_are_real_and_resized_to_one_size():
    uci_x, uci_y = load_uci_digits(size=16)
    mnist_x, mnist_y = load_mnist_digits(size=16)
    assert uci_x.shape == (1797, 16, 16, 1) and mnist_x.shape == (5000, 16, 16, 1)
    for x, y in ((uci_x, uci_y), (mnist_x, mnist_y)):
        assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
        assert sorted(np.unique(y).tolist()) == list(range(10))
    # The shift is real: MNIST digits sit in a margin (dark borders), UCI digits fill their frame.
    assert mnist_x[:, 0].mean() < 0.01 < uci_x[:, :, 4:12].mean()
    with pytest.raises(ValueError, match="unknown digit domain 'svhn'"):
        load_digit_domain("svhn")


def test_few_shot_split_takes_k_per_class_and_keeps_the_rest_for_testing():
    y = np.repeat(np.arange(4), 6)
    x = np.arange(24, dtype="float32").reshape(24, 1, 1, 1)
    (lx, ly), (tx, ty) = few_shot_split(x, y, k=2, seed=3)
    assert np.bincount(ly).tolist() == [2, 2, 2, 2] and len(ty) == 16
    assert not set(lx.ravel()) & set(tx.ravel())
    assert few_shot_split(x, y, k=2, seed=3)[0][0].tolist() == lx.tolist()  # seeded
    with pytest.raises(ValueError, match="class 0 has 6 target samples: too few for k=6"):
        few_shot_split(x, y, k=6)


def test_paired_batches_hold_every_class_and_pad_missing_target_rows():
    rng = np.random.default_rng(0)
    xs, ys = rng.random((30, 4, 4, 1)).astype("float32"), np.arange(30) % 3
    xt, yt = rng.random((6, 4, 4, 1)).astype("float32") + 2.0, np.array([0, 0, 1, 1, 2, 2])  # K = 2 < per_class
    for (source, target), labels in supervised_da_dataset(xs, ys, xt, yt, per_class=3, seed=1).take(3):
        source, target, labels = source.numpy(), target.numpy(), labels.numpy()
        assert source.shape == target.shape == (9, 4, 4, 1) and labels.shape == (9, 2)
        assert np.bincount(labels[:, 0]).tolist() == [3, 3, 3]
        real = labels[:, 1] >= 0
        assert np.bincount(labels[real, 1]).tolist() == [2, 2, 2] and np.all(target[~real] == 0)
        assert np.all(target[real] >= 2.0)  # real rows come from the target set, padding is zeros
        for row in np.flatnonzero(real):  # each target row is the labelled sample of its class
            assert yt[np.flatnonzero(np.all(xt == target[row], axis=(1, 2, 3)))[0]] == labels[row, 1]


def test_bad_domain_inputs_are_refused():
    x, y = np.zeros((6, 4, 4, 1), "float32"), np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"no sample of class\(es\) \[2\]"):
        check_domains(x, y, x[:4], y[:4])
    with pytest.raises(ValueError, match=r"source images are \(4, 4, 1\) but target images \(8, 8, 1\)"):
        check_domains(x, y, np.zeros((6, 8, 8, 1)), y)
    with pytest.raises(ValueError, match="target: images contain NaN"):
        check_domains(x, y, np.full_like(x, np.nan), y)
    with pytest.raises(ValueError, match="source: 6 images but 5 labels"):
        supervised_da_dataset(x, y[:5], x, y)


def _fake_openmic(root, spaces=("clk", "gls"), domains=("source", "target")):
    from PIL import Image

    for space in spaces:
        for domain in domains:
            for exhibit in ("e01", "e02"):
                folder = os.path.join(root, space, domain, exhibit)
                os.makedirs(folder)
                for i in range(2 if domain == "source" else 1):
                    Image.new("RGB", (6, 5), (i * 40, 10, 20)).save(os.path.join(folder, f"{i}.jpg"))
    return root


def _prepare(config, manual, data_dir):
    tfds = pytest.importorskip("tensorflow_datasets")
    from hgzoo.data.tfds_openmic import OpenMicFewShot

    builder = OpenMicFewShot(config=config, data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    return builder


def _rows(builder, split):
    return sorted((e["space"].decode(), e["domain"].decode(), e["label"].decode())
                  for e in builder.as_dataset(split=split).as_numpy_iterator())


def test_openmic_protocols_read_a_fake_tree_of_the_real_layout(tmp_path):
    manual = _fake_openmic(str(tmp_path / "openmic"))
    spaces = _prepare("spaces", manual, tmp_path / "tfds")
    assert set(spaces.info.splits) == {"clk", "gls"} and spaces.info.splits["clk"].num_examples == 6
    per_space = _prepare("per_space", manual, tmp_path / "tfds")
    assert set(per_space.info.splits) == {"clk_source", "clk_target", "gls_source", "gls_target"}
    assert _rows(per_space, "gls_target") == [("gls", "target", "e01"), ("gls", "target", "e02")]
    combined = _prepare("combined", manual, tmp_path / "tfds")
    assert set(combined.info.splits) == {"source", "target"}
    labels = {label for _, _, label in _rows(combined, "source")}
    assert labels == {"clk/e01", "clk/e02", "gls/e01", "gls/e02"}  # exhibits of different spaces never merge
    image = next(combined.as_dataset(split="target").as_numpy_iterator())["image"]
    assert image.shape == (5, 6, 3)


def test_openmic_names_what_is_missing(tmp_path):
    manual = _fake_openmic(str(tmp_path / "openmic"), domains=("source",))
    with pytest.raises(FileNotFoundError, match=r"clk: no target/ folder; each exhibition space needs source/ and"):
        _prepare("combined", manual, tmp_path / "tfds")
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "0.jpg").write_bytes(b"")  # images not yet sorted into spaces
    with pytest.raises(FileNotFoundError, match="no exhibition-space folders"):
        _prepare("per_space", tmp_path / "loose", tmp_path / "tfds")
