"""Convert the SalNet authors' PyTorch checkpoints (``HongguangZhang/SalNet-cvpr19-master``) to a SalNet.

Each setting has four ``state_dict`` pickles, one per network, named
``miniImagenet/<method folder>/miniImagenet_<network>_<N>way_<K>shot.pkl``
and read with hgzoo's numpy-only reader
(:func:`hgzoo.weights.load_torch_state_dict`). ``layer<i>.0`` (Conv2d) and
``layer<i>.1`` (BatchNorm2d) of network ``foreground_encoder`` fill SalNet's
``foreground<i>_conv`` / ``foreground<i>_bn``, and so on; ``fc1``/``fc2``
fill ``relation_fc1``/``relation_fc2``.

Example:

>>> from hgzoo.fewshot.salnet_weights import checkpoint_setting
>>> checkpoint_setting("miniImagenet/SalNet_IntraClass/miniImagenet_mixture_network_5way_5shot.pkl")
('SalNet_IntraClass', 'mixture_network', 5, 5)
"""

import re

import numpy as np

from hgzoo.errors import WeightsMismatchError
from hgzoo.weights.torch_pickle import load_torch_state_dict

MODULES = {"foreground_encoder": "foreground", "background_encoder": "background",
           "mixture_network": "mixture", "relation_network": "relation"}
METHOD_FOLDERS = {"SalNet_InterClass": "inter", "SalNet_IntraClass": "intra", "vanilla_models": "none"}
_CHECKPOINT_NAME = re.compile(r"miniImagenet_(?P<module>[a-z_]+)_(?P<way>\d+)way_(?P<shot>\d+)shot\.pkl")


def checkpoint_setting(rel_path):
    """(method folder, module, way, shot) of an authors' file name such as
    ``miniImagenet/SalNet_InterClass/miniImagenet_relation_network_5way_1shot.pkl``."""
    parts = rel_path.split("/")
    match = _CHECKPOINT_NAME.fullmatch(parts[-1])
    folder = parts[-2] if len(parts) > 1 else None
    if match is None or match["module"] not in MODULES or folder not in METHOD_FOLDERS:
        raise WeightsMismatchError(
            f"{rel_path}: not an authors' SalNet checkpoint name (expected <{'|'.join(METHOD_FOLDERS)}>/"
            f"miniImagenet_<{'|'.join(MODULES)}>_<N>way_<K>shot.pkl)")
    return folder, match["module"], int(match["way"]), int(match["shot"])


def _torch_assignments(model, prefix, state_dict, source):
    """[(variable, value)] filling the layers ``<prefix><i>_conv/_bn`` (and ``relation_fc1/2``) from one
    module's PyTorch state dict; every tensor must be used and fit."""
    layers = {layer.name: layer for layer in model.layers}
    pairs, used = [], set()

    def put(variable, key, value):
        if tuple(variable.shape) != tuple(value.shape):
            raise WeightsMismatchError(f"{source}: {key} has shape {tuple(value.shape)}, the model's "
                                       f"{variable.path} needs {tuple(variable.shape)}; this file is for "
                                       "another architecture")
        pairs.append((variable, value))
        used.add(key)

    def tensor(key):
        if key not in state_dict:
            raise WeightsMismatchError(f"{source}: no tensor {key!r}; is this the {prefix} network's file?")
        return np.asarray(state_dict[key], np.float32)

    i = 1
    while f"{prefix}{i}_conv" in layers:
        conv, bn = layers[f"{prefix}{i}_conv"], layers[f"{prefix}{i}_bn"]
        torch_key = f"layer{i}"
        put(conv.kernel, f"{torch_key}.0.weight", tensor(f"{torch_key}.0.weight").transpose(2, 3, 1, 0))
        put(conv.bias, f"{torch_key}.0.bias", tensor(f"{torch_key}.0.bias"))
        for name, key in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
                          ("moving_variance", "running_var")):
            put(getattr(bn, name), f"{torch_key}.1.{key}", tensor(f"{torch_key}.1.{key}"))
        i += 1
    if prefix == "relation":
        for name in ("fc1", "fc2"):
            dense = layers[f"relation_{name}"]
            put(dense.kernel, f"{name}.weight", tensor(f"{name}.weight").T)
            put(dense.bias, f"{name}.bias", tensor(f"{name}.bias"))
    unused = sorted(k for k in state_dict if k not in used and not k.endswith("num_batches_tracked"))
    if unused:
        raise WeightsMismatchError(f"{source}: tensors {unused} fit no layer of the model's {prefix} network; "
                                   "this file is for another architecture")
    return pairs


def convert_torch_checkpoint(model, files):
    """Load the authors' four PyTorch files (``files``: {relative path: local path}) into ``model``.

    Every file's folder and name must say one setting (method, N-way, K-shot) that fits the model
    (its ``hallucination``, and its ``k_shot`` when set); each of the four networks must come exactly
    once. Everything is read and checked before any weight is assigned, so a refused checkpoint
    leaves the model as it was.
    """
    settings, by_module = set(), {}
    for rel_path in files:
        folder, module, way, shot = checkpoint_setting(rel_path)
        settings.add((folder, way, shot))
        if module in by_module:
            raise WeightsMismatchError(f"two files for the {module}: {by_module[module]} and {rel_path}")
        by_module[module] = rel_path
    if len(settings) != 1:
        raise WeightsMismatchError(f"the checkpoint files mix settings {sorted(settings)}; use the four files "
                                   "of one method and one N-way K-shot setting")
    (folder, way, shot), = settings
    if METHOD_FOLDERS[folder] != model.hallucination:
        raise WeightsMismatchError(f"the files in {folder}/ are {METHOD_FOLDERS[folder]!r}-hallucination weights; "
                                   f"this SalNet has hallucination={model.hallucination!r}")
    if model.k_shot is not None and shot != model.k_shot:
        raise WeightsMismatchError(f"the files are {way}-way {shot}-shot weights, but this SalNet is defined "
                                   f"for {model.k_shot}-shot (k_shot={model.k_shot}); use the {shot}-shot preset "
                                   "or the files of its setting")
    missing = sorted(set(MODULES) - set(by_module))
    if missing:
        raise WeightsMismatchError(f"no checkpoint file for {missing}; SalNet needs all four networks")
    assignments = []
    for module, rel_path in by_module.items():
        assignments += _torch_assignments(model, MODULES[module], load_torch_state_dict(files[rel_path]), rel_path)
    for variable, value in assignments:
        variable.assign(value)
