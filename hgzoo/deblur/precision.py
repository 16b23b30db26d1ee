"""Which precision deblurring runs in: ``precision="auto"`` uses bfloat16 where the hardware runs it natively and faster.

The rule of ``"auto"`` (``hgzoo.deblur.deblur``, ``hgzoo deblur run --precision``,
``hgzoo demo --precision``), in order:

1. Images that are not 8-bit (16-bit or float input) stay float32: bfloat16
   keeps 8 bits of mantissa, less than a 16-bit image carries.
2. Images under :data:`AUTO_MIN_PIXELS` stay float32: building the bfloat16
   copy of the model costs more than it saves on them.
3. Otherwise the machine decides, once, and the answer is cached per machine
   in ``$HGZOO_HOME/precision.json`` (:func:`machine_precision`):

   - a CPU with native bfloat16 (``amx_bf16`` or ``avx512_bf16`` in its
     flags), or a GPU, is *capable*; any other machine runs float32 without a
     probe (on a 2 vCPU AMD EPYC without them, bfloat16 was measured slower
     than float32: issue 26);
   - a capable machine runs a micro-probe (a 64-channel 3×3 convolution at
     both precisions, about a second) and takes bfloat16 only if it is at
     least :data:`MIN_SPEEDUP` times faster.

``"float32"`` and ``"bfloat16"`` force a precision, whatever the image.
bfloat16 runs the model under Keras' ``mixed_bfloat16`` policy (float32
weights, bfloat16 arithmetic, float32 output); on the authors' GoPro frames
it changes PSNR by at most a few hundredths of a dB
(``benchmarks/results/deblur/precision.json``).

Example:

>>> from hgzoo.deblur.precision import resolve
>>> resolve("float32", image_dtype="uint8", pixels=1280 * 720)
'float32'
>>> resolve("auto", image_dtype="uint16", pixels=1280 * 720)
'float32'
"""

import hashlib
import json
import os
import time
import weakref

import numpy as np

PRECISIONS = ("auto", "float32", "bfloat16")
NATIVE_BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")
AUTO_MIN_PIXELS = 256 * 256
MIN_SPEEDUP = 1.2
CACHE_FILE = "precision.json"

_twins = weakref.WeakKeyDictionary()  # model -> {compute dtype: its copy in that precision}


def check_precision(precision):
    """``precision`` if it is one of :data:`PRECISIONS`, else a clear error."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision


def cpu_info():
    """(CPU model, set of flags) from ``/proc/cpuinfo``; ("unknown", empty) where there is none (macOS, Windows)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def gpus():
    """The accelerators Keras' backend sees (``gpu:0``, ``cuda:0``...), by name."""
    import keras

    return [d for d in keras.distribution.list_devices() if not d.lower().startswith("cpu")]


def capability():
    """What the capability check sees: CPU model, its native bfloat16 flags, GPUs, the Keras backend."""
    import keras

    model, flags = cpu_info()
    return {"cpu": model, "native_bfloat16_flags": sorted(f for f in NATIVE_BFLOAT16_FLAGS if f in flags),
            "gpus": gpus(), "backend": keras.backend.backend()}


def machine_key(cap):
    """The cache key of a machine: backend, CPU model, bfloat16 flags and GPUs (another machine, another key)."""
    text = json.dumps([cap["backend"], cap["cpu"], cap["native_bfloat16_flags"], cap["gpus"]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def probe_seconds(dtype, size=96, channels=64, repeats=3):
    """Median seconds of one 3×3 ``channels``→``channels`` convolution on a (1, size, size) map in ``dtype``."""
    from keras import ops

    rng = np.random.default_rng(0)
    x = ops.cast(rng.standard_normal((1, size, size, channels)).astype(np.float32), dtype)
    k = ops.cast(rng.standard_normal((3, 3, channels, channels)).astype(np.float32) * 0.05, dtype)
    times = []
    for i in range(repeats + 1):  # the first call pays for kernel selection
        start = time.perf_counter()
        ops.convert_to_numpy(ops.conv(x, k, padding="same"))
        if i:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def decide(cap, probe=probe_seconds):
    """The machine's choice for ``"auto"``: ``{"precision", "reason", ...probe timings}``."""
    if not cap["native_bfloat16_flags"] and not cap["gpus"]:
        return {"precision": "float32", "reason": "no native bfloat16 (no amx_bf16/avx512_bf16 CPU flag, no GPU)"}
    f32, bf16 = probe("float32"), probe("bfloat16")
    speedup = f32 / max(bf16, 1e-9)
    faster = speedup >= MIN_SPEEDUP
    return {"precision": "bfloat16" if faster else "float32",
            "reason": f"native bfloat16 ({', '.join(cap['native_bfloat16_flags'] + cap['gpus'])}); probe: "
                      f"bfloat16 {speedup:.2f}x float32's speed ({'>=' if faster else '<'} {MIN_SPEEDUP})",
            "probe_float32_s": f32, "probe_bfloat16_s": bf16}


def cache_path():
    from hgzoo.config import home_dir

    return os.path.join(home_dir(), CACHE_FILE)


def _read_cache(path):
    try:
        with open(path) as f:
            cache = json.load(f)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):  # missing or damaged: decide again and rewrite it
        return {}


def machine_precision(refresh=False, probe=probe_seconds):
    """This machine's choice for ``"auto"`` (``"float32"`` or ``"bfloat16"``), decided once and cached.

    The cache (``$HGZOO_HOME/precision.json``) maps :func:`machine_key` to the
    decision and why; ``refresh=True`` decides again. It is rewritten
    atomically, so concurrent runs never see half a file.
    """
    from hgzoo.files import replace_atomically

    cap = capability()
    key, path = machine_key(cap), cache_path()
    cache = _read_cache(path)
    entry = cache.get(key)
    if refresh or not isinstance(entry, dict) or entry.get("precision") not in ("float32", "bfloat16"):
        entry = {**decide(cap, probe), "machine": cap}
        cache[key] = entry
        os.makedirs(os.path.dirname(path), exist_ok=True)

        def write(tmp):
            with open(tmp, "w") as f:
                json.dump(cache, f, indent=1)

        replace_atomically(path, write)
    return entry["precision"]


def resolve(precision, image_dtype, pixels, model=None):
    """``"float32"`` or ``"bfloat16"``: what ``precision`` means for an image of ``image_dtype`` and ``pixels``.

    Forced precisions are kept; ``"auto"`` follows the rule in this module's
    docstring. A model that cannot be rebuilt in another precision (not a
    hgzoo deblurring model) keeps its own under ``"auto"``.
    """
    check_precision(precision)
    if precision != "auto":
        return precision
    if model is not None and not _rebuildable(model):
        return "bfloat16" if compute_dtype(model) == "bfloat16" else "float32"
    if np.dtype(image_dtype) != np.uint8 or pixels < AUTO_MIN_PIXELS:
        return "float32"
    return machine_precision()


def compute_dtype(model):
    """The dtype ``model`` computes in: its first layer with weights' (a functional model's own policy says nothing).

    Anything without Keras layers (a stand-in with ``predict_on_batch``) counts as float32.
    """
    for layer in getattr(model, "layers", ()):
        if layer.weights:
            return layer.dtype_policy.compute_dtype
    policy = getattr(model, "dtype_policy", None)
    return policy.compute_dtype if policy is not None else "float32"


def _rebuildable(model):
    from hgzoo.deblur.base import DeblurModel

    return isinstance(model, DeblurModel)


def in_precision(model, precision):
    """``model`` itself if it computes in ``precision``, else its copy in that precision with the same weights.

    The copy is built once per model and precision (rebuilt from the model's
    config with ``dtype="mixed_bfloat16"`` or ``"float32"``) and refreshed
    from the model's current weights on every call, so training the model
    after a call is seen by the next one.
    """
    compute = "bfloat16" if precision == "bfloat16" else "float32"
    if compute_dtype(model) == compute:
        return model
    if not _rebuildable(model):
        raise ValueError(f"precision={precision!r} needs a hgzoo deblurring model; {type(model).__name__} "
                         f"computes in {compute_dtype(model)}: use precision='auto' or build it in "
                         f"the precision you want")
    twins = _twins.setdefault(model, {})
    if compute not in twins:
        config = {**model.get_config(), "dtype": "mixed_bfloat16" if compute == "bfloat16" else "float32"}
        twins[compute] = type(model).from_config(config)
    twin = twins[compute]
    twin.set_weights(model.get_weights())
    return twin
