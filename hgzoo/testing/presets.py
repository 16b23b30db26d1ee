"""Golden preset tests: a preset's weights still give the outputs recorded in its manifest.

Keras loads ``.weights.h5`` files by structure, so a refactor that reorders
layers can load a preset's weights into the wrong layers without any error.
Each manifest entry therefore stores ``"golden"`` numbers: statistics and
sampled values of the preset's output on one fixed input of its task (the
packaged demo photo for deblurring, a fixed synthetic episode for few-shot,
fixed features for text, two fixed denoiser calls for generation).
:func:`run_preset_test` rebuilds the preset and compares;
``tools/write_golden_values.py`` writes the numbers (never by hand).

Example:

>>> from hgzoo.testing import run_preset_test
>>> run_preset_test("dmphn_1_2_synthetic")  # doctest: +SKIP
"""

from importlib import resources

import keras
import numpy as np

# Float32 on CPU reproduces outputs to ~1e-5 across backends; 2e-3 leaves room
# for other BLAS/cuDNN kernels while a misplaced weight moves outputs by ~1e-1.
GOLDEN_ATOL = 2e-3
_SAMPLED_VALUES = 32


def _deblur_input(config):
    """A 64×64 crop of the packaged camera-shake photo (a multiple of every DMPHN level's size)."""
    from PIL import Image

    path = resources.files("hgzoo.samples") / "chelsea_shake.png"
    with resources.as_file(path) as local:
        photo = np.asarray(Image.open(local).convert("RGB"), np.float32) / 255
    return "samples/chelsea_shake.png[100:164, 180:244]", [photo[None, 100:164, 180:244]]


def _strokes(rng, n, h, w):
    """``n`` white images with three dark 2-pixel line strokes each, like Omniglot characters."""
    images = np.ones((n, h, w), np.float32)
    t = np.linspace(0, 1, 2 * max(h, w))
    for image in images:
        for _ in range(3):
            (y0, y1), (x0, x1) = rng.integers(4, h - 4, 2), rng.integers(4, w - 4, 2)
            ys, xs = np.round(y0 + t * (y1 - y0)).astype(int), np.round(x0 + t * (x1 - x0)).astype(int)
            for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
                image[ys + dy, xs + dx] = 0.0
    return images


def _fewshot_input(config):
    """One 5-way 1-shot episode of fixed stroke 'characters'; query i is class i moved by one pixel."""
    h, w = config.get("image_size", (28, 28))
    channels = config.get("channels", 1)
    support = np.repeat(_strokes(np.random.default_rng(2019), 5, h, w)[..., None], channels, axis=-1)
    queries = np.roll(support, 1, axis=2)
    k = config.get("k_shot") or 1  # K-shot presets: each class's image, then K - 1 copies moved down 1..K-1 px
    shots = np.concatenate([np.roll(support, i, axis=1) for i in range(k)])
    episode = [shots[None], np.tile(np.arange(5, dtype=np.int32), k)[None], queries[None]]
    return f"seed 2019: 5-way {k}-shot stroke images {h}x{w}x{channels}, queries shifted 1 px", episode


def _text_input(config):
    """Four fixed feature tensors (examples, layers, features) of the preset's sizes."""
    layers, dim = config.get("num_layers", 5), config.get("feature_dim", 384)
    features = np.random.default_rng(2019).normal(size=(4, layers, dim)).astype(np.float32)
    extras = [np.random.default_rng(2019 + i).normal(size=(4, d)).astype(np.float32)
              for i, d in enumerate(config.get("extra_dims", ()), 1)]
    return f"seed 2019: normal features (4, {layers}, {dim}) + extras {list(config.get('extra_dims', ()))}", [
        features, *extras]


def _generation_input(config):
    """Two fixed denoiser calls ``[noisy, timestep, identity, layout, background]``: standard-normal noisy
    images at T/4 and 3T/4, unit normal identities, a centred close-up and a small off-centre layout,
    backgrounds 0 and 1 (int32)."""
    h, w = config.get("image_size", (64, 64))
    channels, dim = config.get("channels", 3), config.get("identity_dim", 128)
    timesteps, backgrounds = config.get("timesteps", 1000), config.get("num_backgrounds", 4)
    rng = np.random.default_rng(2019)
    noisy = rng.standard_normal((2, h, w, channels)).astype(np.float32)
    identity = rng.standard_normal((2, dim)).astype(np.float32)
    identity /= np.linalg.norm(identity, axis=-1, keepdims=True)
    timestep = np.array([timesteps // 4, 3 * timesteps // 4], np.float32)
    layouts = [[1.0, 0.5, 0.5], [0.3, 0.3, 0.6]]
    background = np.array([0, min(1, backgrounds - 1)], np.int32)
    return (f"seed 2019: 2 standard-normal noisy {h}x{w}x{channels}, "
            f"timesteps {timestep.astype(int).tolist()}, unit normal identities ({dim}), layouts {layouts}, "
            f"backgrounds {background.tolist()}",
            [noisy, timestep, identity, np.array(layouts, np.float32), background])


# The fixed input of each family (registry task); a new family adds its own here.
GOLDEN_INPUTS = {"deblur": _deblur_input, "fewshot": _fewshot_input, "text": _text_input,
                 "generation": _generation_input}


def golden_input(task, config):
    """``(description, list of arrays)``: the fixed input golden values are measured on."""
    if task not in GOLDEN_INPUTS:
        raise ValueError(f"no golden input for task {task!r}: add one to GOLDEN_INPUTS in {__name__}")
    return GOLDEN_INPUTS[task](config)


def golden_values(model, preset):
    """The golden numbers of ``model``, built from ``preset``: a preset id, a manifest
    Preset, or a raw manifest entry (a dict with ``"task"`` and ``"config"``).

    Returns ``{"input", "shape", "mean", "std", "values"}``: the input's
    description, the output's shape, mean and standard deviation, and
    ``_SAMPLED_VALUES`` output values at evenly spaced flat positions (all of
    them for small outputs such as a score matrix).
    """
    from hgzoo.weights import manifest

    preset = manifest.get(preset) if isinstance(preset, str) else preset
    task, config = (preset["task"], preset.get("config", {})) if isinstance(preset, dict) else (preset.task,
                                                                                                 preset.config)
    description, arrays = golden_input(task, config)
    out = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
    out = np.asarray(keras.ops.convert_to_numpy(out), np.float64)
    index = np.unique(np.linspace(0, out.size - 1, min(out.size, _SAMPLED_VALUES)).round().astype(int))
    return {"input": description, "shape": list(out.shape), "mean": round(float(out.mean()), 6),
            "std": round(float(out.std()), 6), "values": [round(float(v), 6) for v in out.reshape(-1)[index]]}


def run_preset_test(preset_id, model=None, atol=GOLDEN_ATOL):
    """Build ``preset_id`` with its weights and compare its output with the manifest's golden values.

    Args:
        preset_id: a manifest preset id.
        model: check this model instead of ``create_model(preset_id, pretrained=True)``.
        atol: absolute tolerance on every golden number (outputs are O(1)).

    Raises:
        AssertionError naming the preset, the number that differs and how to
        refresh the values when a change of outputs is intended.
        WeightsUnavailableError when the preset's files are not available.
    """
    import hgzoo
    from hgzoo.weights import manifest

    preset = manifest.get(preset_id)
    source = f"weights/manifests/{preset.task}.json"
    if not preset.golden:
        raise AssertionError(f"preset {preset_id!r} has no golden values in {source}; "
                             f"write them with: python tools/write_golden_values.py {preset_id}")
    if model is None:
        model = hgzoo.create_model(preset_id, pretrained=True)
    actual, expected = golden_values(model, preset), preset.golden
    refresh = (f"Weights may load into the wrong layers (a reordered architecture), or the model or its "
               f"preprocessing changed. If the change is intended, rewrite the values with: "
               f"python tools/write_golden_values.py {preset_id}")
    for key in ("input", "shape"):
        if actual[key] != expected[key]:
            raise AssertionError(f"preset {preset_id!r}: golden {key} is {expected[key]!r} in {source}, "
                                 f"got {actual[key]!r}. {refresh}")
    for key in ("mean", "std", "values"):
        a, e = np.asarray(actual[key], np.float64), np.asarray(expected[key], np.float64)
        if a.shape != e.shape or not np.allclose(a, e, rtol=0, atol=atol):
            diff = np.abs(a - e).max() if a.shape == e.shape else f"{a.shape} vs {e.shape} values"
            raise AssertionError(f"preset {preset_id!r}: output {key} differs from the golden value in {source} "
                                 f"(max |diff| {diff}, atol {atol}). {refresh}")
    return actual
