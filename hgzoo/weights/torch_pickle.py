"""Read PyTorch ``torch.save`` state dicts with numpy only, safely.

Both formats are supported: the legacy stream (PyTorch < 1.6: magic number,
protocol, system info, the pickled object, then the raw storages) and the zip
archive (``archive/data.pkl`` plus one file per storage). Tensors saved on a
GPU load fine: the device is recorded but ignored.

Pickles can run arbitrary code, so the unpickler only resolves an allow-list
of globals, each mapped to a harmless numpy stand-in. Any other global (for
example ``os.system``) raises :class:`~hgzoo.errors.UnsafeCheckpointError` at
the moment the pickle names it, before anything could be called.

Example:

>>> from hgzoo.weights import load_torch_state_dict
>>> sd = load_torch_state_dict("encoder_lv1.pkl")  # doctest: +SKIP
>>> sd["layer1.weight"].shape  # doctest: +SKIP
(32, 3, 3, 3)
"""

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

from hgzoo.errors import UnsafeCheckpointError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# torch storage class name -> numpy dtype of its elements.
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stand-in for ``torch.<X>Storage``: only records the element dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]

    @property
    def itemsize(self):
        return 2 if self.dtype == "bfloat16" else np.dtype(self.dtype).itemsize

    def decode(self, raw, numel):
        if self.dtype == "bfloat16":
            # numpy has no bfloat16: widen the 16 bits into a float32's top half.
            bits = np.frombuffer(raw, dtype="<u2", count=numel).astype(np.uint32)
            return (bits << 16).view(np.float32)
        return np.frombuffer(raw, dtype=np.dtype(self.dtype).newbyteorder("<"), count=numel)


class _Storage:
    """A storage whose bytes may arrive after the pickle that references it."""

    def __init__(self, storage_type, key, numel):
        self.type = storage_type
        self.key = key
        self.numel = numel
        self.array = None


class _TensorRef:
    """A tensor to materialise once its storage bytes are known."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)

    def materialise(self):
        base = self.storage.array
        if base is None:
            raise UnsafeCheckpointError(f"storage {self.storage.key!r} has no data in the checkpoint")
        if not self.size:
            return np.array(base[self.offset])
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if min(self.size) > 0 and needed > base.size:
            raise UnsafeCheckpointError(
                f"tensor of shape {self.size} needs {needed} elements but storage "
                f"{self.storage.key!r} holds {base.size}"
            )
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=self.size, strides=[s * item for s in self.stride]
        )
        return np.array(view)  # own the memory, native byte order


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _ordered_dict(*args, **kwargs):
    return collections.OrderedDict(*args, **kwargs)


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file, encoding="latin1")
        self._storages = storages

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"refusing to load checkpoint: it references the global {module}.{name}, "
            "which is not part of a plain tensor state dict (only OrderedDict, tensor "
            "rebuilders and typed storages are allowed). Nothing from the file was executed."
        )

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise UnsafeCheckpointError(f"unexpected persistent id in checkpoint: {pid!r}")
        storage_type, key, _location, numel = pid[1], str(pid[2]), pid[3], pid[4]
        if not isinstance(storage_type, _StorageType):
            raise UnsafeCheckpointError(f"unsupported storage type in checkpoint: {storage_type!r}")
        if len(pid) > 5 and pid[5] is not None:
            raise UnsafeCheckpointError("storage views from PyTorch < 0.4 are not supported")
        storage = self._storages.get(key)
        if storage is None:
            storage = self._storages[key] = _Storage(storage_type, key, int(numel))
        return storage


def _load_one(stream, storages):
    return _RestrictedUnpickler(stream, storages).load()


def _finish(obj, path):
    """Replace tensor references by arrays and check the result is a state dict."""
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise UnsafeCheckpointError(f"{path}: expected a state dict, found {type(obj).__name__}")
    result = collections.OrderedDict()
    for key, value in obj.items():
        if isinstance(value, _TensorRef):
            result[str(key)] = value.materialise()
    if not result:
        raise UnsafeCheckpointError(f"{path}: the checkpoint holds no tensors")
    return result


def _load_legacy(f, path):
    storages = {}
    magic = _load_one(f, storages)
    if magic != _LEGACY_MAGIC:
        raise UnsafeCheckpointError(f"{path}: not a torch.save file (bad magic number)")
    protocol = _load_one(f, storages)
    if protocol != _LEGACY_PROTOCOL:
        raise UnsafeCheckpointError(f"{path}: unsupported torch.save protocol {protocol}")
    _load_one(f, storages)  # system info: endianness and type sizes
    obj = _load_one(f, storages)
    keys = _load_one(f, storages)
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise UnsafeCheckpointError(f"{path}: data for unknown storage {key!r}")
        (numel,) = struct.unpack("<q", f.read(8))
        raw = f.read(numel * storage.type.itemsize)
        if len(raw) != numel * storage.type.itemsize:
            raise UnsafeCheckpointError(f"{path}: file is truncated (storage {key!r})")
        storage.array = storage.type.decode(raw, numel)
    return _finish(obj, path)


def _load_zip(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl")]
        if len(pkl) != 1:
            raise UnsafeCheckpointError(f"{path}: zip checkpoint without a single data.pkl")
        prefix = pkl[0][: -len("data.pkl")]
        storages = {}
        obj = _load_one(io.BytesIO(zf.read(pkl[0])), storages)
        for key, storage in storages.items():
            raw = zf.read(f"{prefix}data/{key}")
            storage.array = storage.type.decode(raw, len(raw) // storage.type.itemsize)
    return _finish(obj, path)


def load_torch_state_dict(path):
    """Load a PyTorch state dict as ``{name: numpy.ndarray}`` without torch.

    Args:
        path: a file written by ``torch.save(model.state_dict(), path)``, in
            the legacy or the zip format.

    Returns:
        An ordered dict from parameter name to a numpy array in PyTorch's own
        layout (for example ``(out, in, kh, kw)`` for a convolution kernel).

    Raises:
        UnsafeCheckpointError: the file names a global outside the allow-list,
            is truncated, or holds no tensors.
        FileNotFoundError: ``path`` does not exist.
    """
    path = os.fspath(path)
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    with open(path, "rb") as f:
        try:
            return _load_legacy(f, path)
        except (EOFError, struct.error, pickle.UnpicklingError) as e:
            if isinstance(e, UnsafeCheckpointError):
                raise
            raise UnsafeCheckpointError(f"{path}: not a readable torch.save checkpoint ({e})") from e
