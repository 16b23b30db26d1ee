"""Convert the authors' DDDNet checkpoints (``Estd.pkl``, ``Esti.pkl``) into a :class:`DDDNet` at width 1.

The official test code (``DDDNet/model_test.py``) saves both networks from
``nn.DataParallel``, so every key starts with ``module.``. The files are read
with hgzoo's numpy-only, allow-listed torch reader
(:func:`hgzoo.weights.load_torch_state_dict`); torch is not needed.

Key layout (official module names → hgzoo layers):

- ``Estd.pkl`` (``YRStereonet_3D``): ``feature.start.{0,1}`` → ``conv1``,
  ``conv2``; ``feature.layer1.{0,1}`` → ``conv3``, ``conv4``;
  ``feature.branch1.1.{0,1}`` / ``feature.branch3.1.{0,1}`` → the 64×64 / 16×16
  pooling branches' conv and BN; ``feature.end.0`` → ``fuse``;
  ``feature.end.1.conv`` → ``last``; ``matching.start.{0,1,2}`` →
  ``dres0-2``; ``matching.conv1a.{0,1}`` → ``dres3-4``;
  ``matching.deconv1a.conv{1,2}`` → ``dres5-6``; ``matching.end.0`` →
  ``deconv``/``deconv_bn``; ``matching.end.1.conv`` → ``classify``. Each
  ``BasicConv`` is ``.conv.weight`` + ``.bn.{weight, bias, running_mean,
  running_var}``.
- ``Esti.pkl`` (``Mydeblur``): ``encoder{1,2,3}`` / ``decoder{1,2,3}`` →
  ``encoder_lv*`` / ``decoder_lv*`` (DMPHN's ``layerN[.i]`` names);
  ``decoderd`` → ``depth_decoder``; ``down.conv`` → ``cam_conv``;
  ``cam_attention.gamma`` → ``cam``.

Modules the official code builds but never calls hold weights that are
skipped by name, nothing else: the second feature tower ``features.*``, the
unused hourglass levels ``matching.{conv2a, conv3a, deconv2a, deconv3a}.*``,
the BatchNorms of ``BasicConv(bn=False)`` (``feature.end.1.bn``,
``matching.end.1.bn``), ``Mydeblur.conv.*``, and every
``num_batches_tracked``. Any other missing or left-over key, or a shape that
differs, raises :class:`CheckpointLayoutError` naming the file and key.
"""

import os

import numpy as np

from hgzoo.errors import HgzooError
from hgzoo.weights import load_torch_state_dict

FILES = ("Estd.pkl", "Esti.pkl")
_UNUSED = {
    "Estd.pkl": ("features.", "matching.conv2a.", "matching.conv3a.", "matching.deconv2a.", "matching.deconv3a.",
                 "feature.end.1.bn.", "matching.end.1.bn."),
    "Esti.pkl": ("conv.",),
}
# hgzoo BasicConv name (in DisparityNet or its feature tower) -> official module path.
_ESTD_BASIC = {
    "conv1": "feature.start.0", "conv2": "feature.start.1", "conv3": "feature.layer1.0", "conv4": "feature.layer1.1",
    "fuse": "feature.end.0", "dres0": "matching.start.0", "dres1": "matching.start.1", "dres2": "matching.start.2",
    "dres3": "matching.conv1a.0", "dres4": "matching.conv1a.1", "dres5": "matching.deconv1a.conv1",
    "dres6": "matching.deconv1a.conv2",
}
_ESTI_BLOCKS = {"encoder_lv1": "encoder1", "encoder_lv2": "encoder2", "encoder_lv3": "encoder3",
                "decoder_lv1": "decoder1", "decoder_lv2": "decoder2", "decoder_lv3": "decoder3",
                "depth_decoder": "decoderd"}
_CONV_2D = (2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out); ConvTranspose (in, out, ...) -> (..., out, in)
_CONV_3D = (2, 3, 4, 1, 0)


class CheckpointLayoutError(HgzooError, ValueError):
    """A DDDNet checkpoint folder whose files or keys are not the authors' layout."""


def convert_dddnet_checkpoint(model, folder):
    """Fill ``model`` (a :class:`~hgzoo.dualpixel.DDDNet` of width 1, 12 disparities, ``dmphn_domain=False``)
    from ``folder/Estd.pkl`` and ``folder/Esti.pkl``; every used tensor must be present with its shape.

    ``DDDNet(pretrained="/path/to/folder")`` calls this.

    Example:

    >>> from hgzoo.dualpixel import DDDNet
    >>> model = DDDNet(pretrained="checkpoints/model_dpd")  # doctest: +SKIP
    """
    if (getattr(model, "width", None), getattr(model, "max_disparity", None)) != (1.0, 12) or model.dmphn_domain:
        raise CheckpointLayoutError(
            f"the authors' checkpoints are for DDDNet(width=1.0, max_disparity=12, dmphn_domain=False); this model "
            f"has width={model.width}, max_disparity={model.max_disparity}, dmphn_domain={model.dmphn_domain}")
    folder = os.fspath(folder)
    missing = [f for f in FILES if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise CheckpointLayoutError(f"{folder}: no {' or '.join(missing)}; a DDDNet checkpoint folder holds both "
                                    f"Estd.pkl (disparity) and Esti.pkl (deblurring), as the authors' "
                                    f"checkpoints/model_{{nyu,dpd}}/ do")
    estd, esti = model.get_layer("estd"), model.get_layer("esti")
    for filename, targets in (("Estd.pkl", _estd_targets(estd)), ("Esti.pkl", _esti_targets(esti))):
        path = os.path.join(folder, filename)
        _assign(path, _strip_module(load_torch_state_dict(path), path), targets, _UNUSED[filename])


def _strip_module(state_dict, path):
    """Drop ``nn.DataParallel``'s ``module.`` prefix (present on every key of the authors' files)."""
    if state_dict and all(k.startswith("module.") for k in state_dict):
        return {k[len("module."):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def _assign(path, state_dict, targets, unused_prefixes):
    """``targets``: torch key -> (Keras variable, axes to transpose or None). Check everything, then assign."""
    absent = sorted(k for k in targets if k not in state_dict)
    if absent:
        raise CheckpointLayoutError(f"{path}: missing {len(absent)} tensors of the authors' layout, first "
                                    f"{absent[:3]}; is this the matching file of a DDDNet checkpoint?")
    left_over = sorted(k for k in state_dict if k not in targets and not k.endswith("num_batches_tracked")
                       and not k.startswith(unused_prefixes))
    if left_over:
        raise CheckpointLayoutError(f"{path}: {len(left_over)} tensors this DDDNet has no place for, first "
                                    f"{left_over[:3]}")
    values = []
    for key, (variable, axes) in targets.items():
        value = np.asarray(state_dict[key], "float32")
        value = value.transpose(axes) if axes else value
        if tuple(value.shape) != tuple(variable.shape):
            raise CheckpointLayoutError(f"{path}: {key} has shape {tuple(state_dict[key].shape)}, which is "
                                        f"{tuple(value.shape)} in Keras layout; the model's {variable.path} is "
                                        f"{tuple(variable.shape)}")
        values.append((variable, value))
    for variable, value in values:
        variable.assign(value)


def _conv_bn(conv, bn, conv_key, bn_prefix, axes):
    gamma, beta, mean, var = bn.weights
    return {conv_key: (conv.kernel, axes), f"{bn_prefix}.weight": (gamma, None), f"{bn_prefix}.bias": (beta, None),
            f"{bn_prefix}.running_mean": (mean, None), f"{bn_prefix}.running_var": (var, None)}


def _estd_targets(estd):
    tower = estd.get_layer("feature")
    targets = {}
    for name, torch_path in _ESTD_BASIC.items():
        owner = tower if torch_path.startswith("feature.") else estd
        axes = _CONV_2D if owner is tower else _CONV_3D
        targets.update(_conv_bn(owner.get_layer(f"{name}_conv"), owner.get_layer(f"{name}_bn"),
                                f"{torch_path}.conv.weight", f"{torch_path}.bn", axes))
    for size, branch in ((64, "branch1"), (16, "branch3")):  # convbn = Sequential(Conv2d, BatchNorm2d)
        targets.update(_conv_bn(tower.get_layer(f"branch{size}_conv"), tower.get_layer(f"branch{size}_bn"),
                                f"feature.{branch}.1.0.weight", f"feature.{branch}.1.1", _CONV_2D))
    targets["feature.end.1.conv.weight"] = (tower.get_layer("last").kernel, _CONV_2D)
    targets.update(_conv_bn(estd.get_layer("deconv"), estd.get_layer("deconv_bn"), "matching.end.0.conv.weight",
                            "matching.end.0.bn", _CONV_3D))
    targets["matching.end.1.conv.weight"] = (estd.get_layer("classify").kernel, _CONV_3D)
    return targets


def _esti_targets(esti):
    targets = {}
    for name, torch_name in _ESTI_BLOCKS.items():
        for conv_name, conv in esti.get_layer(name).convs.items():
            key = f"{torch_name}.{conv_name.replace('_', '.')}"  # DMPHN's layer2_0 is torch's layer2.0
            targets[f"{key}.weight"] = (conv.kernel, _CONV_2D)
            targets[f"{key}.bias"] = (conv.bias, None)
    cam_conv = esti.get_layer("cam_conv")
    targets["down.conv.weight"] = (cam_conv.kernel, _CONV_2D)
    targets["down.conv.bias"] = (cam_conv.bias, None)
    targets["cam_attention.gamma"] = (esti.get_layer("cam").gamma, None)
    return targets
