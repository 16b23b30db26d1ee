"""Training data pipelines, synthetic blur, and resuming after a kill."""

import csv
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from hgzoo.deblur.data import camera_shake, deblur_pairs


def _write_gopro(root, sequences=2, frames=2, size=(40, 48)):
    rng = np.random.default_rng(0)
    for s in range(sequences):
        for kind in ("blur", "sharp"):
            (root / f"GOPR000{s}_11_00" / kind).mkdir(parents=True)
        for f in range(frames):
            for kind in ("blur", "sharp"):
                image = (rng.random(size + (3,)) * 255).astype(np.uint8)
                Image.fromarray(image).save(root / f"GOPR000{s}_11_00" / kind / f"{f:06d}.png")


def test_gopro_layout_and_crops(tmp_path):
    _write_gopro(tmp_path)
    pairs = deblur_pairs.gopro_pairs(tmp_path)
    assert len(pairs) == 4 and all(b.replace("/blur/", "/sharp/") == s for b, s in pairs)
    blurry, sharp = next(iter(deblur_pairs.training_dataset(pairs, crop=16, batch_size=3, seed=1)))
    assert blurry.shape == sharp.shape == (3, 16, 16, 3)
    assert 0.0 <= float(np.min(blurry)) and float(np.max(blurry)) <= 1.0


def test_same_window_for_blur_and_sharp(tmp_path):
    for kind in ("blur", "sharp"):
        (tmp_path / kind).mkdir()
    image = (np.random.default_rng(1).random((30, 30, 3)) * 255).astype(np.uint8)
    for kind in ("blur", "sharp"):  # identical files: every crop/flip/rotation must agree
        Image.fromarray(image).save(tmp_path / kind / "a.png")
    ds = deblur_pairs.training_dataset(deblur_pairs.folder_pairs(tmp_path / "blur", tmp_path / "sharp"),
                                       crop=12, batch_size=1)
    for blurry, sharp in ds.take(5):
        np.testing.assert_array_equal(blurry.numpy(), sharp.numpy())


def test_missing_partner_and_empty_folders(tmp_path):
    (tmp_path / "blur").mkdir()
    (tmp_path / "sharp").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        deblur_pairs.folder_pairs(tmp_path / "blur", tmp_path / "sharp")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "blur" / "x.png")
    with pytest.raises(FileNotFoundError, match="no sharp partner"):
        deblur_pairs.folder_pairs(tmp_path / "blur", tmp_path / "sharp")
    with pytest.raises(FileNotFoundError, match="GOPRxxxx"):
        deblur_pairs.gopro_pairs(tmp_path / "sharp")


def test_kernel_is_a_normalised_path():
    k = camera_shake.random_kernel(np.random.default_rng(0), size=21)
    assert k.shape == (21, 21) and abs(k.sum() - 1) < 1e-5 and (k >= 0).all()
    assert (k > 0).sum() > 10  # a path, not a point


def test_blur_matches_direct_convolution():
    rng = np.random.default_rng(1)
    image = rng.random((12, 14, 2)).astype(np.float32)
    k = camera_shake.random_kernel(rng, 5)
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), mode="reflect")
    direct = np.zeros_like(image)
    for i in range(12):
        for j in range(14):
            direct[i, j] = (padded[i:i + 5, j:j + 5] * k[::-1, ::-1, None]).sum(axis=(0, 1))
    np.testing.assert_allclose(camera_shake.blur_image(image, k), direct, atol=1e-5)


def test_synthetic_pairs_reproducible():
    photo = np.random.default_rng(2).random((80, 90, 3)).astype(np.float32)
    a = next(iter(deblur_pairs.synthetic_pairs([photo], crop=32, batch_size=2, seed=5)))
    b = next(iter(deblur_pairs.synthetic_pairs([photo], crop=32, batch_size=2, seed=5)))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert a[0].shape == (2, 32, 32, 3)
    assert not np.allclose(a[0].numpy(), a[1].numpy())  # blurred


_TRAIN_SCRIPT = textwrap.dedent("""
    import os, sys, numpy as np, keras, hgzoo
    from hgzoo.training import fit_resumable
    out, kill_after = sys.argv[1], int(sys.argv[2])
    keras.utils.set_random_seed(0)

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == kill_after:
                os._exit(9)  # like SIGKILL: no cleanup

    x = np.random.default_rng(0).random((8, 8, 8, 3)).astype("float32")
    model = hgzoo.deblur.DMPHN(levels=(1,))
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((x, x)).batch(4).repeat()
    fit_resumable(model, ds, out, epochs=4, steps_per_epoch=2, callbacks=[Kill()], verbose=0)
""")


def test_training_resumes_after_kill(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, str(tmp_path), "2"], env=env, cwd=tmp_path,
                           capture_output=True, text=True)
    assert first.returncode == 9, first.stderr[-2000:]
    assert (tmp_path / "backup").is_dir()
    second = subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, str(tmp_path), "0"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-2000:]
    with open(tmp_path / "log.csv") as f:
        epochs = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert epochs == [0, 1, 2, 3]  # resumed at epoch 2, not restarted
    assert (tmp_path / "last.weights.h5").is_file() and (tmp_path / "history.json").is_file()


def test_tfds_builder_reads_manual_dir_only(tmp_path):
    import tensorflow_datasets as tfds

    from hgzoo.deblur.data.tfds_gopro import GoproDeblur

    manual = tmp_path / "GOPRO_Large"
    _write_gopro(manual / "train", sequences=2, frames=2)
    _write_gopro(manual / "test", sequences=1, frames=3)
    builder = GoproDeblur(data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    assert builder.info.splits["train"].num_examples == 4
    assert builder.info.splits["test"].num_examples == 3
    blur, sharp = next(iter(builder.as_dataset(split="test", as_supervised=True)))
    assert blur.shape == sharp.shape == (40, 48, 3)


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_train_in_sync(tmp_path):
    """Two processes on 127.0.0.1 under MultiWorkerMirroredStrategy end with identical weights."""
    import json

    import h5py

    rng = np.random.default_rng(3)
    for kind in ("blur", "sharp"):
        (tmp_path / kind).mkdir()
    for i in range(4):
        image = (rng.random((24, 24, 3)) * 255).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / "blur" / f"{i}.png")
        Image.fromarray(np.flipud(image)).save(tmp_path / "sharp" / f"{i}.png")
    ports = _free_ports(2)
    procs = []
    for index in range(2):
        config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "TF_CPP_MIN_LOG_LEVEL": "3"}
        cmd = [sys.executable, "-m", "hgzoo.cli.main", "deblur", "train", "--pairs", str(tmp_path / "blur"),
               str(tmp_path / "sharp"), "--levels", "1", "--crop", "16", "--batch-size", "2", "--epochs", "2",
               "--steps-per-epoch", "2", "--seed", str(index), "--strategy", "multi-worker",
               "--out", str(tmp_path / "run")]
        # cwd outside the checkout: the workers must import the installed hgzoo, not the source tree.
        procs.append(subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]

    def weights(path):
        with h5py.File(path) as f:
            out = []
            f.visititems(lambda n, o: out.append(o[...]) if isinstance(o, h5py.Dataset) else None)
            return out

    chief, other = weights(tmp_path / "run/final.weights.h5"), weights(tmp_path / "run/worker-final/final.weights.h5")
    assert len(chief) == len(other) > 0
    for a, b in zip(chief, other):
        np.testing.assert_array_equal(a, b)
    with open(tmp_path / "run/log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]
