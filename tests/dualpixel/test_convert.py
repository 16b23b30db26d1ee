"""The authors' DDDNet checkpoints (Estd.pkl, Esti.pkl from nn.DataParallel) convert through the numpy reader.

The synthetic checkpoint's keys and shapes are written out here from the
official module names (``DDDNet/model_test.py``: YRStereonet_3D and Mydeblur),
independently of the converter's own table.
"""

import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hgzoo.dualpixel import DDDNet  # noqa: E402
from hgzoo.dualpixel.convert import CheckpointLayoutError, convert_dddnet_checkpoint  # noqa: E402


def _basic(prefix, out, inp, k, three_d=False):  # BasicConv: bias-free conv + BatchNorm
    shape = (out, inp) + (k,) * (3 if three_d else 2)
    return {f"{prefix}.conv.weight": shape, **_bn(f"{prefix}.bn", out)}


def _bn(prefix, n):
    return {f"{prefix}.{v}": (n,) for v in ("weight", "bias", "running_mean", "running_var")} | {
        f"{prefix}.num_batches_tracked": ()}


def _deconv(prefix, inp, out):  # BasicConv(deconv=True, is_3d=True): ConvTranspose3d weight is (in, out, k, k, k)
    return {f"{prefix}.conv.weight": (inp, out, 4, 4, 4), **_bn(f"{prefix}.bn", out)}


def estd_layout():
    feature = {**_basic("start.0", 32, 3, 3), **_basic("start.1", 64, 32, 3), **_basic("layer1.0", 128, 64, 3),
               **_basic("layer1.1", 128, 128, 3), **_basic("end.0", 96, 192, 3), **_basic("end.1", 32, 96, 1)}
    for branch in ("branch1", "branch3"):
        feature |= {f"{branch}.1.0.weight": (32, 128, 1, 1), **_bn(f"{branch}.1.1", 32)}
    keys = {f"{tower}.{k}": v for tower in ("feature", "features") for k, v in feature.items()}
    matching = {**_basic("start.0", 32, 64, 3, True), **_basic("start.1", 48, 32, 3, True),
                **_basic("start.2", 48, 48, 3, True), **_basic("conv1a.0", 64, 48, 3, True),
                **_basic("conv1a.1", 64, 64, 3, True), **_basic("conv2a.0", 96, 64, 3, True),
                **_basic("conv2a.1", 96, 96, 3, True), **_basic("conv3a.0", 128, 96, 3, True),
                **_basic("conv3a.1", 128, 128, 3, True), **_deconv("deconv3a.conv1", 128, 96),
                **_basic("deconv3a.conv2", 96, 192, 3, True), **_deconv("deconv2a.conv1", 96, 64),
                **_basic("deconv2a.conv2", 64, 128, 3, True), **_basic("deconv1a.conv1", 48, 64, 3, True),
                **_basic("deconv1a.conv2", 48, 96, 3, True), **_deconv("end.0", 48, 24),
                **_basic("end.1", 1, 24, 3, True)}
    return keys | {f"matching.{k}": v for k, v in matching.items()}


def esti_layout():
    keys = {}
    for i in (1, 2, 3):
        enc = {"layer1": (32, 7), "layer5": (64, 32), "layer9": (128, 64)}
        enc |= {f"{n}.{j}": (c, c) for n, c in (("layer2", 32), ("layer3", 32), ("layer6", 64), ("layer7", 64),
                                                 ("layer10", 128), ("layer11", 128)) for j in (0, 2)}
        keys |= {f"encoder{i}.{k}.{p}": (o, n, 3, 3) if p == "weight" else (o,)
                 for k, (o, n) in enc.items() for p in ("weight", "bias")}
    for name, out in (("decoder1", 3), ("decoder2", 7), ("decoder3", 7), ("decoderd", 1)):
        dec = {f"{n}.{j}": (c, c, 3, 3) for n, c in (("layer13", 128), ("layer14", 128), ("layer17", 64),
                                                      ("layer18", 64), ("layer21", 32), ("layer22", 32)) for j in (0, 2)}
        dec |= {"layer16": (128, 64, 4, 4), "layer20": (64, 32, 4, 4), "layer24": (out, 32, 3, 3)}
        for k, shape in dec.items():
            bias = shape[1] if k in ("layer16", "layer20") else shape[0]  # ConvTranspose2d weight: (in, out, k, k)
            keys |= {f"{name}.{k}.weight": shape, f"{name}.{k}.bias": (bias,)}
    return keys | {"cam_attention.gamma": (1,), "down.conv.weight": (128, 4, 8, 8), "down.conv.bias": (128,),
                   "conv.conv.weight": (1, 128, 3, 3), "conv.conv.bias": (1,)}


def write(folder, name, layout, drop=(), reshape=None):
    rng = np.random.default_rng(len(name))
    state = collections.OrderedDict()
    for key, shape in layout.items():
        if key in drop:
            continue
        shape = reshape if reshape and key == next(iter(layout)) else shape
        value = rng.standard_normal(shape).astype("float32") * 0.01
        if key.endswith("running_var"):
            value = 1.0 + np.abs(value)
        state[f"module.{key}"] = (torch.zeros(shape, dtype=torch.int64) if key.endswith("num_batches_tracked")
                                  else torch.from_numpy(value))
    torch.save(state, folder / name)
    return state


def test_authors_checkpoint_folder_converts_and_names_what_does_not_fit(tmp_path):
    torch.set_num_threads(1)
    estd = write(tmp_path, "Estd.pkl", estd_layout())
    esti = write(tmp_path, "Esti.pkl", esti_layout())
    model = DDDNet(pretrained=tmp_path)
    assert model.pretrained_cfg["converter"] == "dddnet_torch"
    tower = model.get_layer("estd").get_layer("feature")
    np.testing.assert_array_equal(tower.get_layer("conv1_conv").kernel.numpy(),
                                  estd["module.feature.start.0.conv.weight"].numpy().transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(tower.get_layer("branch16_bn").moving_variance.numpy(),
                                  estd["module.feature.branch3.1.1.running_var"].numpy())
    np.testing.assert_array_equal(model.get_layer("estd").get_layer("deconv").kernel.numpy(),
                                  estd["module.matching.end.0.conv.weight"].numpy().transpose(2, 3, 4, 1, 0))
    esti_model = model.get_layer("esti")
    np.testing.assert_array_equal(esti_model.get_layer("decoder_lv2").convs["layer20"].bias.numpy(),
                                  esti["module.decoder2.layer20.bias"].numpy())
    np.testing.assert_array_equal(esti_model.get_layer("cam").gamma.numpy(), esti["module.cam_attention.gamma"].numpy())
    assert np.isfinite(model.predict([np.random.rand(1, 64, 64, 3)] * 2, verbose=0)).all()

    # Errors name the file, the key and the shapes (one width-1 build serves them all).
    (tmp_path / "Esti.pkl").unlink()
    with pytest.raises(CheckpointLayoutError, match="no Esti.pkl"):
        convert_dddnet_checkpoint(model, tmp_path)
    write(tmp_path, "Esti.pkl", esti_layout(), drop=("down.conv.bias",))
    with pytest.raises(CheckpointLayoutError, match="Esti.pkl: missing 1 tensors.*down.conv.bias"):
        convert_dddnet_checkpoint(model, tmp_path)
    write(tmp_path, "Esti.pkl", esti_layout(), reshape=(32, 3, 3, 3))
    with pytest.raises(CheckpointLayoutError, match="encoder1.layer1.weight has shape \\(32, 3, 3, 3\\)"):
        convert_dddnet_checkpoint(model, tmp_path)
    with pytest.raises(CheckpointLayoutError, match="width=1.0"):
        DDDNet(width=0.125, pretrained=tmp_path)
