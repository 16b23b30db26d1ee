"""The tfds builder for the SalNet authors' miniImageNet + saliency layout, on a tiny fake tree."""

import numpy as np
import pytest
from PIL import Image

tfds = pytest.importorskip("tensorflow_datasets")


def fake_tree(root, with_maps=True):
    """datas/miniImagenet as the authors lay it out: split/class/image.jpg and saliency_maps/image.jpg."""
    rng = np.random.default_rng(0)
    (root / "saliency_maps").mkdir(parents=True) if with_maps else root.mkdir(parents=True)
    for split, classes in (("train", ("n01", "n02")), ("val", ("n03",)), ("test", ("n04", "n05"))):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(2):
                name = f"{c}{i:04d}"
                Image.fromarray(rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)).save(root / split / c / f"{name}.jpg")
                if with_maps:
                    Image.fromarray(np.full((12, 10), 40 * i + 100, np.uint8)).save(root / "saliency_maps" / f"{name}.jpg")
    return root


def test_builder_reads_images_with_their_saliency_maps(tmp_path):
    from hgzoo.fewshot.data.tfds_builders import MiniImagenetSaliencyFewShot

    manual = fake_tree(tmp_path / "datas" / "miniImagenet")
    builder = MiniImagenetSaliencyFewShot(data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    examples = list(tfds.as_numpy(builder.as_dataset(split="test")))
    assert sorted(e["label"].decode() for e in examples) == ["n04", "n04", "n05", "n05"]
    for e in examples:
        assert e["image"].shape == (12, 10, 3) and e["saliency"].shape == (12, 10, 1)
        index = int(e["filename"].decode()[3:7])
        assert abs(int(np.median(e["saliency"])) - (40 * index + 100)) <= 2  # this image's own map (JPEG rounding)


def test_missing_saliency_folder_is_named(tmp_path):
    from hgzoo.fewshot.data.tfds_builders import MiniImagenetSaliencyFewShot

    manual = fake_tree(tmp_path / "mini", with_maps=False)
    builder = MiniImagenetSaliencyFewShot(data_dir=str(tmp_path / "tfds"))
    with pytest.raises(FileNotFoundError, match="saliency_maps not found"):
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
