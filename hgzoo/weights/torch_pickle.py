"""Read PyTorch ``torch.save`` state dicts with numpy only, safely.

Both formats are supported: the legacy stream (PyTorch < 1.6: magic number,
protocol, system info, the pickled object, then the raw storages) and the zip
archive (``archive/data.pkl`` plus one file per storage). Tensors saved on a
GPU load fine: the device is recorded but ignored.

Pickles can run arbitrary code, so the unpickler only resolves an allow-list
of globals, each mapped to a harmless numpy stand-in. Any other global (for
example ``os.system``) raises :class:`~hgzoo.errors.UnsafeCheckpointError` at
the moment the pickle names it, before anything could be called.

The file is also hostile input for memory and time, so the reader checks what
the pickle asks for before doing it:

- only the opcodes a state dict needs run (no sets, no object creation beyond
  the allow-list); ``BUILD`` only attaches the module versions (``_metadata``)
  that ``torch.save`` gives a state dict's OrderedDict, never touching the
  stand-ins or the storages;
- dict keys and storage ids must be plain ``str`` or ``int``: a key built from
  shared references, whose hash or text doubles at each level, is refused
  before it is hashed;
- every element a tensor view reads, over strides of either sign, lies inside
  its storage's real data;
- the tensors together hold at most 16 times the elements present in the
  storages, plus 2**20: stride-0 views cannot turn a small file into gigabytes
  (tied weights and other shared views stay far below this);
- a zip's members may inflate to at most 64 times the archive's size, plus
  1 MiB, by their declared sizes, checked before anything is decompressed
  (``torch.save`` stores its members uncompressed; zipfile never yields more
  than a member's declared size); the pickle itself is at most 16 MiB.

Every failure raises :class:`~hgzoo.errors.UnsafeCheckpointError` with one line
that names the file; only a missing or unreadable path raises ``OSError``.

Example:

>>> from hgzoo.weights import load_torch_state_dict
>>> sd = load_torch_state_dict("encoder_lv1.pkl")  # doctest: +SKIP
>>> sd["layer1.weight"].shape  # doctest: +SKIP
(32, 3, 3, 3)
"""

import collections
import io
import math
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np

from hgzoo.errors import UnsafeCheckpointError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_ZIP_MAGIC = b"PK\x03\x04"

# Resource limits, as the module docstring states them. A state dict's pickle takes ~150 bytes a tensor.
_MAX_PICKLE_BYTES = 16 << 20
_MAX_VIEW_EXPANSION = 16
_VIEW_SLACK = 1 << 20
_MAX_INFLATION = 64
_INFLATION_SLACK = 1 << 20
_MAX_DIMS = 64  # numpy's own limit
_MAX_INDEX = 1 << 62

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

_KEY_TYPES = (str, int)
_PLAIN_VALUE_TYPES = (str, int, float, bool, type(None))
_MAPPING_TYPES = (dict, collections.OrderedDict)


def _is_key(obj):
    # Exact types: a subclass or a tuple could hash or print in time exponential in its pickle's size.
    return type(obj) in _KEY_TYPES


def _is_index(obj):
    return type(obj) is int and -_MAX_INDEX < obj < _MAX_INDEX


def _clip(text, limit=60):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(key):
    return _clip(repr(key))


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

    def __init__(self, storage_type, key):
        self.type = storage_type
        self.key = key
        self.array = None


class _TensorRef:
    """A tensor to materialise once its storage bytes are known."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride

    @property
    def numel(self):
        return math.prod(self.size)

    def materialise(self):
        base = self.storage.array
        if base is None:
            raise UnsafeCheckpointError(f"storage {_shown(self.storage.key)} has no data in the checkpoint")
        if 0 in self.size:
            return np.zeros(self.size, dtype=base.dtype)
        reach = [(n - 1) * s for n, s in zip(self.size, self.stride)]
        low = self.offset + sum(r for r in reach if r < 0)
        high = self.offset + sum(r for r in reach if r > 0)
        if low < 0 or high >= base.size:
            raise UnsafeCheckpointError(
                f"tensor of shape {self.size} reads elements {low} to {high}, outside storage "
                f"{_shown(self.storage.key)} of {base.size} elements"
            )
        # A dimension of length 1 never steps: its stride may be anything, so it must not reach numpy.
        strides = [s * base.itemsize if n > 1 else 0 for n, s in zip(self.size, self.stride)]
        view = np.lib.stride_tricks.as_strided(base[self.offset:], shape=self.size, strides=strides)
        return np.array(view)  # own the memory, native byte order


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise UnsafeCheckpointError(f"a tensor is built on a {type(storage).__name__}, not on a storage")
    if not (_is_index(storage_offset) and type(size) is tuple and type(stride) is tuple
            and len(size) == len(stride) <= _MAX_DIMS and all(map(_is_index, size + stride))
            and min(size, default=0) >= 0):
        raise UnsafeCheckpointError("a tensor has a malformed offset, shape or stride")
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    if not isinstance(data, _TensorRef):
        raise UnsafeCheckpointError(f"a parameter wraps a {type(data).__name__}, not a tensor")
    return data


def _ordered_dict():
    # torch pickles an OrderedDict empty and fills it with SETITEMS, where its keys are checked.
    return collections.OrderedDict()


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}
_CALLABLES = tuple(_ALLOWED_GLOBALS.values())

# The opcodes that torch.save (protocol 2, its default, or later) writes for a state dict.
_ALLOWED_OPCODES = (
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP",
    "NONE", "NEWTRUE", "NEWFALSE", "BININT", "BININT1", "BININT2", "LONG1", "LONG4", "BINFLOAT",
    "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BINSTRING", "SHORT_BINSTRING",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_LIST", "APPEND", "APPENDS",
    "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS",
    "BINPUT", "LONG_BINPUT", "MEMOIZE", "BINGET", "LONG_BINGET",
    "GLOBAL", "STACK_GLOBAL", "REDUCE", "BINPERSID", "BUILD",
)
_OPCODE_NAMES = {ord(op.code): op.name for op in pickletools.opcodes}


class _Dispatch(dict):
    def __missing__(self, code):
        if code not in _OPCODE_NAMES:
            raise UnsafeCheckpointError(
                f"the pickle holds the byte 0x{code:02x} where an opcode belongs: the file is corrupt")
        raise UnsafeCheckpointError(
            f"the pickle uses the opcode {_OPCODE_NAMES[code]}, which a plain state dict never needs")


def _is_module_metadata(state):
    """True for ``{"_metadata": {module name: {str: plain value}}}``, the state torch gives a state dict."""
    if type(state) is not dict or list(state) != ["_metadata"]:
        return False
    modules = state["_metadata"]
    if type(modules) not in _MAPPING_TYPES:
        return False
    checked = set()  # ids: an entry shared by many modules is read once
    for name, entry in modules.items():
        if type(name) is not str or type(entry) not in _MAPPING_TYPES:
            return False
        if id(entry) not in checked:
            checked.add(id(entry))
            if not all(type(k) is str and type(v) in _PLAIN_VALUE_TYPES for k, v in entry.items()):
                return False
    return True


def _plain_key(key):
    if not _is_key(key):
        raise UnsafeCheckpointError(
            f"a dict key is a {type(key).__name__}: only plain strings and integers are accepted as keys")
    return key


def _mapping(obj):
    if type(obj) not in _MAPPING_TYPES:
        raise UnsafeCheckpointError(f"the pickle sets items on a {type(obj).__name__}")
    return obj


class _RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler (its opcodes can each be checked), limited to a state dict's opcodes."""

    def __init__(self, file, storages):
        super().__init__(file, encoding="latin1")
        self._storages = storages

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"refusing to load checkpoint: it references the global {_clip(f'{module}.{name}')}, "
            "which is not part of a plain tensor state dict (only OrderedDict, tensor rebuilders "
            "and typed storages are allowed). Nothing from the file was executed."
        )

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) not in (5, 6) or type(pid[0]) is not str or pid[0] != "storage":
            raise UnsafeCheckpointError("unexpected persistent id in checkpoint: only storages are allowed")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(storage_type, _StorageType):
            raise UnsafeCheckpointError(
                f"unsupported storage type in checkpoint: {type(storage_type).__name__}")
        if not _is_key(key):
            raise UnsafeCheckpointError(
                f"a storage id is a {type(key).__name__}: only plain strings and integers are accepted")
        if not _is_index(numel) or numel < 0:
            raise UnsafeCheckpointError(f"storage {_shown(key)} has a malformed element count")
        if len(pid) == 6 and pid[5] is not None:
            raise UnsafeCheckpointError("storage views from PyTorch < 0.4 are not supported")
        key = str(key)
        storage = self._storages.setdefault(key, _Storage(storage_type, key))
        if storage.type.name != storage_type.name:
            raise UnsafeCheckpointError(f"storage {_shown(key)} is declared with two element types")
        return storage

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not any(func is allowed for allowed in _CALLABLES) or type(args) is not tuple:
            raise UnsafeCheckpointError(f"the pickle calls a {type(func).__name__}, not an allowed function")
        self.stack[-1] = func(*args)

    def load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if type(target) is not collections.OrderedDict or not _is_module_metadata(state):
            raise UnsafeCheckpointError(
                f"the pickle applies BUILD to an object of type {type(target).__name__} with a state other "
                "than module versions: a state dict uses BUILD only to give its OrderedDict a `_metadata`"
            )
        # The versions are checked and dropped: nothing here reads them.

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        _mapping(self.stack[-1])[_plain_key(key)] = value

    def load_setitems(self):
        items = self.pop_mark()
        target = _mapping(self.stack[-1])
        for key, value in zip(items[::2], items[1::2]):
            target[_plain_key(key)] = value

    def load_dict(self):
        items = self.pop_mark()
        self.append({_plain_key(key): value for key, value in zip(items[::2], items[1::2])})

    def load_append(self):
        value = self.stack.pop()
        self._list(self.stack[-1]).append(value)

    def load_appends(self):
        items = self.pop_mark()
        self._list(self.stack[-1]).extend(items)

    @staticmethod
    def _list(obj):
        if type(obj) is not list:
            raise UnsafeCheckpointError(f"the pickle appends to a {type(obj).__name__}")
        return obj


# Each allowed opcode runs the base class's handler, or the checked one above where it has the same name.
_RestrictedUnpickler.dispatch = _Dispatch(
    (code, getattr(_RestrictedUnpickler, pickle._Unpickler.dispatch[code].__name__))
    for code in (getattr(pickle, name)[0] for name in _ALLOWED_OPCODES)
)


def _load_one(stream, storages):
    return _RestrictedUnpickler(stream, storages).load()


def _finish(obj, storages):
    """Replace tensor references by arrays and check the result is a state dict."""
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise UnsafeCheckpointError(f"expected a state dict, found {type(obj).__name__}")
    tensors = [(str(key), value) for key, value in obj.items() if isinstance(value, _TensorRef)]
    if not tensors:
        raise UnsafeCheckpointError("the checkpoint holds no tensors")
    present = sum(s.array.size for s in storages.values() if s.array is not None)
    requested = sum(ref.numel for _, ref in tensors)
    if requested > _MAX_VIEW_EXPANSION * present + _VIEW_SLACK:
        raise UnsafeCheckpointError(
            f"the tensors ask for {requested} elements but the file holds {present}: views that repeat "
            f"elements may expand the data at most {_MAX_VIEW_EXPANSION}-fold"
        )
    return collections.OrderedDict((key, ref.materialise()) for key, ref in tensors)


def _read_exactly(f, n, what):
    data = f.read(n)
    if len(data) != n:
        raise UnsafeCheckpointError(f"file is truncated ({what})")
    return data


def _load_legacy(f, size):
    storages = {}
    # The pickles are read from memory: a length field in them can never make a read allocate more.
    head = io.BytesIO(f.read(min(size, _MAX_PICKLE_BYTES)))
    try:
        magic = _load_one(head, storages)
        if type(magic) is not int or magic != _LEGACY_MAGIC:
            raise UnsafeCheckpointError("not a torch.save file (bad magic number)")
        protocol = _load_one(head, storages)
        if type(protocol) is not int or protocol != _LEGACY_PROTOCOL:
            shown = protocol if _is_index(protocol) else type(protocol).__name__
            raise UnsafeCheckpointError(f"unsupported torch.save protocol {shown}")
        _load_one(head, storages)  # system info: endianness and type sizes
        obj = _load_one(head, storages)
        keys = _load_one(head, storages)
    except EOFError:
        if head.tell() < _MAX_PICKLE_BYTES:
            raise
        raise UnsafeCheckpointError(
            f"its pickles exceed {_MAX_PICKLE_BYTES / 2 ** 20:g} MiB, the most accepted") from None
    if type(keys) is not list or not all(map(_is_key, keys)):
        raise UnsafeCheckpointError("the list of storage ids holds something other than plain ids")
    f.seek(head.tell())
    for key in map(str, keys):
        storage = storages.get(key)
        if storage is None:
            raise UnsafeCheckpointError(f"data for unknown storage {_shown(key)}")
        (numel,) = struct.unpack("<q", _read_exactly(f, 8, f"storage {_shown(key)}"))
        nbytes = numel * storage.type.itemsize
        if numel < 0 or nbytes > size - f.tell():
            raise UnsafeCheckpointError(
                f"file is truncated: storage {_shown(key)} claims {numel} elements, more than the file holds")
        storage.array = storage.type.decode(_read_exactly(f, nbytes, f"storage {_shown(key)}"), numel)
    return _finish(obj, storages)


def _load_zip(f, size):
    with zipfile.ZipFile(f) as zf:
        pkl = [info for info in zf.infolist() if info.filename.endswith("data.pkl")]
        if len(pkl) != 1:
            raise UnsafeCheckpointError("zip checkpoint without a single data.pkl")
        if pkl[0].file_size > _MAX_PICKLE_BYTES:
            raise UnsafeCheckpointError(f"data.pkl would inflate to {pkl[0].file_size} bytes; at most "
                                        f"{_MAX_PICKLE_BYTES / 2 ** 20:g} MiB is accepted")
        prefix = pkl[0].filename[: -len("data.pkl")]
        storages = {}
        obj = _load_one(io.BytesIO(zf.read(pkl[0])), storages)
        members = {}
        for key in storages:
            try:
                members[key] = zf.getinfo(f"{prefix}data/{key}")
            except KeyError:
                raise UnsafeCheckpointError(f"storage {_shown(key)} is missing from the archive") from None
        inflated = pkl[0].file_size + sum(info.file_size for info in members.values())
        if inflated > _MAX_INFLATION * size + _INFLATION_SLACK:
            raise UnsafeCheckpointError(
                f"the archive's members would inflate to {inflated} bytes from a {size}-byte file "
                f"(at most {_MAX_INFLATION}-fold is accepted; torch.save does not compress)"
            )
        for key, storage in storages.items():
            raw = zf.read(members[key])
            storage.array = storage.type.decode(raw, len(raw) // storage.type.itemsize)
    return _finish(obj, storages)


def _describe(error):
    # Only text and small numbers from the exception: its arguments could be large pickled objects.
    parts = [str(a) if type(a) is str or _is_index(a) else type(a).__name__ for a in error.args]
    text = " ".join(" ".join(parts).split())
    return type(error).__name__ + (f": {text[:200]}" if text else "")


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
            goes past a resource limit, is truncated or corrupt, or holds no
            tensors.
        FileNotFoundError: ``path`` does not exist (other ``OSError``: it
            cannot be opened).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if f.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC:
                return _load_zip(f, size)
            f.seek(0)
            return _load_legacy(f, size)
        except UnsafeCheckpointError as e:
            raise UnsafeCheckpointError(f"{path}: {e}") from None
        except EOFError:
            raise UnsafeCheckpointError(f"{path}: file is truncated (a pickle ends early)") from None
        except Exception as e:  # whatever a corrupt file trips inside pickle, zipfile or numpy
            raise UnsafeCheckpointError(
                f"{path}: not a readable torch.save checkpoint ({_describe(e)})") from e
