"""The restricted torch.save reader: real checkpoints, both formats, hostile pickles."""

import collections
import copy
import io
import os
import pickle
import pickletools
import struct
import subprocess
import sys
import tracemalloc
import types
import zipfile

import numpy as np
import pytest

import hgzoo.errors
from hgzoo.errors import UnsafeCheckpointError
from hgzoo.weights import load_torch_state_dict, torch_pickle


def test_official_dmphn_checkpoint(dmphn_mirror):
    sd = load_torch_state_dict(dmphn_mirror / "checkpoints/DMPHN_1_2_4/encoder_lv1.pkl")
    assert len(sd) == 30
    assert sd["layer1.weight"].shape == (32, 3, 3, 3)
    assert sd["layer1.weight"].dtype == np.float32
    assert sd["layer11.2.bias"].shape == (128,)
    assert all(np.isfinite(v).all() for v in sd.values())


# --- writing checkpoints in torch's formats without torch -------------------------------

class _FakeStorage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Tensor:
    def __init__(self, storage, shape, offset=0, stride=None):
        self.storage, self.shape, self.offset = storage, shape, offset
        self.stride = stride if stride is not None else tuple(
            int(np.prod(shape[i + 1:])) for i in range(len(shape)))

    def __reduce__(self):
        return (_torch_module("torch._utils")._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False, collections.OrderedDict()))


def _torch_module(name):
    return sys.modules[name]


@pytest.fixture
def fake_torch(monkeypatch):
    """Just enough of a ``torch`` module for pickle to emit torch's global names."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


class _Pickler(pickle.Pickler):
    def __init__(self, f, torch):
        super().__init__(f, protocol=2)
        self.torch = torch

    def persistent_id(self, obj):
        if isinstance(obj, _FakeStorage):
            return ("storage", self.torch.FloatStorage, obj.key, "cuda:0", obj.array.size)
        return None


def _legacy_bytes(state, storages, torch, prefix=b""):
    """A legacy ``torch.save`` stream of ``state``, followed by the bytes of ``storages``.

    ``prefix``: raw opcodes run before the state is unpickled (they must leave the stack empty).
    """
    buf = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, buf, protocol=2)
    state_pickle = io.BytesIO()
    _Pickler(state_pickle, torch).dump(state)
    buf.write(state_pickle.getvalue()[:2] + prefix + state_pickle.getvalue()[2:])
    pickle.dump([s.key for s in storages], buf, protocol=2)
    for s in storages:
        buf.write(struct.pack("<q", s.array.size))
        buf.write(s.array.tobytes())
    return buf.getvalue()


def _write_legacy(path, tensors, torch):
    storages = [_FakeStorage(str(i), a.astype("<f4")) for i, a in enumerate(tensors.values())]
    state = collections.OrderedDict(
        (name, _Tensor(s, a.shape)) for s, (name, a) in zip(storages, tensors.items()))
    path.write_bytes(_legacy_bytes(state, storages, torch))


def test_legacy_format_round_trip(tmp_path, fake_torch):
    tensors = {"conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2), "conv.bias": np.ones(2, np.float32)}
    _write_legacy(tmp_path / "ck.pkl", tensors, fake_torch)
    sd = load_torch_state_dict(tmp_path / "ck.pkl")
    assert list(sd) == ["conv.weight", "conv.bias"]
    for name, array in tensors.items():
        np.testing.assert_array_equal(sd[name], array)


def test_zip_format(tmp_path, fake_torch):
    weight = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    storage = _FakeStorage("0", weight)
    buf = io.BytesIO()
    _Pickler(buf, fake_torch).dump(collections.OrderedDict(w=_Tensor(storage, (4, 5))))
    with zipfile.ZipFile(tmp_path / "ck.pt", "w") as zf:
        zf.writestr("archive/data.pkl", buf.getvalue())
        zf.writestr("archive/data/0", weight.tobytes())
    np.testing.assert_array_equal(load_torch_state_dict(tmp_path / "ck.pt")["w"], weight)


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


@pytest.mark.parametrize("func", [os.system, eval])
def test_code_execution_is_refused_before_running(tmp_path, func):
    marker = tmp_path / "pwned"
    payload = f"touch {marker}" if func is os.system else f"open({str(marker)!r}, 'w')"
    buf = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump({}, buf, protocol=2)
    pickle.dump(collections.OrderedDict(w=_Evil(func, payload)), buf, protocol=2)
    (tmp_path / "evil.pkl").write_bytes(buf.getvalue())
    with pytest.raises(UnsafeCheckpointError, match="system|eval"):
        load_torch_state_dict(tmp_path / "evil.pkl")
    assert not marker.exists()


def test_truncated_and_foreign_files(tmp_path, dmphn_mirror):
    data = (dmphn_mirror / "checkpoints/DMPHN_1_2_4/encoder_lv1.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsafeCheckpointError, match="truncated"):
        load_torch_state_dict(tmp_path / "cut.pkl")
    (tmp_path / "text.pkl").write_text("hello")
    with pytest.raises(UnsafeCheckpointError):
        load_torch_state_dict(tmp_path / "text.pkl")


# --- memory attacks: out-of-bounds views, resource limits, shared references, BUILD ----------

def _ops(obj):
    """The opcodes that push ``obj``: its pickle without the PROTO header and the STOP."""
    return pickle.dumps(obj, protocol=2)[2:-1]


def _one_tensor_file(tmp_path, torch, tensor, storages, **kwargs):
    path = tmp_path / "ck.pkl"
    path.write_bytes(_legacy_bytes(collections.OrderedDict(w=tensor), storages, torch, **kwargs))
    return path


@pytest.mark.parametrize("shape, offset, stride", [
    ((64,), 3, (-1,)),          # walks back past the start of the storage
    ((2, 3), 0, (-3, 1)),       # mixed signs: the second row starts before the storage
    ((2,), -1, (1,)),           # a negative offset
    ((4,), 1, (1,)),            # one element past the end
    ((), 4, ()),                # a scalar just past the end
    ((2, 2), 0, (2 ** 40, 1)),  # a stride far past the end
])
def test_views_outside_their_storage_are_refused(tmp_path, fake_torch, shape, offset, stride):
    storage = _FakeStorage("0", np.arange(4, dtype="<f4"))
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, shape, offset, stride), [storage])
    with pytest.raises(UnsafeCheckpointError, match="outside storage"):
        load_torch_state_dict(path)


def test_views_with_negative_strides_inside_their_storage_load(tmp_path, fake_torch):
    storage = _FakeStorage("0", np.arange(6, dtype="<f4"))
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, (2, 3), 5, (-3, -1)), [storage])
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], [[5, 4, 3], [2, 1, 0]])


def test_stride_zero_view_cannot_inflate_a_small_file(tmp_path, fake_torch):
    storage = _FakeStorage("0", np.zeros(1, "<f4"))
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, (4096, 4096), 0, (0, 0)), [storage])
    assert path.stat().st_size < 1024
    with pytest.raises(UnsafeCheckpointError, match="elements"):
        load_torch_state_dict(path)


def test_many_views_of_one_storage_share_one_element_budget(tmp_path, fake_torch):
    storage = _FakeStorage("0", np.zeros(1024, "<f4"))
    state = collections.OrderedDict(  # each view alone is within bounds: only their total is too big
        (f"w{i}", _Tensor(storage, (1024, 1024), 0, (0, 1))) for i in range(8))
    (tmp_path / "ck.pkl").write_bytes(_legacy_bytes(state, [storage], fake_torch))
    with pytest.raises(UnsafeCheckpointError, match="elements"):
        load_torch_state_dict(tmp_path / "ck.pkl")


def test_zip_bomb_storage_is_refused_without_inflating_it(tmp_path, fake_torch):
    buf = io.BytesIO()
    _Pickler(buf, fake_torch).dump(collections.OrderedDict(
        w=_Tensor(_FakeStorage("0", np.zeros(20, "<f4")), (4, 5))))
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", buf.getvalue())
        with zf.open("archive/data/0", "w") as member:  # 128 MiB of zeros in about 128 KiB
            zeros = bytes(1 << 20)
            for _ in range(128):
                member.write(zeros)
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeCheckpointError, match="inflate"):
            load_torch_state_dict(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize("archive", [False, True])
def test_pickle_larger_than_the_limit_is_refused(tmp_path, fake_torch, monkeypatch, archive):
    monkeypatch.setattr(torch_pickle, "_MAX_PICKLE_BYTES", 1024)
    storage = _FakeStorage("0", np.zeros(2, "<f4"))
    state = collections.OrderedDict([("w", _Tensor(storage, (2,))), ("note", "x" * 2048)])
    path = tmp_path / "ck.pkl"
    if archive:
        buf = io.BytesIO()
        _Pickler(buf, fake_torch).dump(state)
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", buf.getvalue())
            zf.writestr("archive/data/0", storage.array.tobytes())
    else:
        path.write_bytes(_legacy_bytes(state, [storage], fake_torch))
    with pytest.raises(UnsafeCheckpointError, match="MiB"):
        load_torch_state_dict(path)


def _shared_tuple(depth):
    """A tuple whose hash and text take 2**depth steps, though pickle writes it in ``depth`` steps."""
    t = ()
    for _ in range(depth):
        t = (t, t)
    return t


@pytest.mark.parametrize("mapping", [dict, collections.OrderedDict])
def test_shared_reference_dict_keys_are_refused(tmp_path, fake_torch, mapping):
    storage = _FakeStorage("0", np.zeros(2, "<f4"))
    state = mapping([("w", _Tensor(storage, (2,))), (_shared_tuple(16), 0)])
    (tmp_path / "ck.pkl").write_bytes(_legacy_bytes(state, [storage], fake_torch))
    with pytest.raises(UnsafeCheckpointError, match="key"):
        load_torch_state_dict(tmp_path / "ck.pkl")


def test_shared_reference_storage_ids_are_refused(tmp_path, fake_torch):
    storage = _FakeStorage(_shared_tuple(16), np.zeros(2, "<f4"))
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, (2,)), [storage])
    with pytest.raises(UnsafeCheckpointError, match="storage id"):
        load_torch_state_dict(path)


_STANDALONE_LOAD = """
import os, sys, types
root = sys.argv[1]
for name in ("hgzoo", "hgzoo.weights"):  # the reader alone, without importing TensorFlow
    package = types.ModuleType(name)
    package.__path__ = [os.path.join(root, *name.split("."))]
    sys.modules[name] = package
from hgzoo.errors import UnsafeCheckpointError
from hgzoo.weights.torch_pickle import load_torch_state_dict
try:
    load_torch_state_dict(sys.argv[2])
except UnsafeCheckpointError as e:
    print("refused:", e)
"""


def test_deep_shared_reference_key_is_refused_without_hashing_it(tmp_path):
    # Hashing this key takes 2**100 steps, so the only passing outcome is a refusal before hashing.
    # It runs in a subprocess so that a regression fails on the timeout instead of hanging the suite.
    state = b"\x80\x02}" + _ops(_shared_tuple(100)) + b"K\x00s."  # {key: 0}
    headers = b"".join(pickle.dumps(h, protocol=2) for h in (0x1950A86A20F9469CFC6C, 1001, {}))
    (tmp_path / "ck.pkl").write_bytes(headers + state + pickle.dumps([], protocol=2))
    root = os.path.dirname(os.path.dirname(os.path.abspath(hgzoo.errors.__file__)))
    done = subprocess.run([sys.executable, "-c", _STANDALONE_LOAD, root, str(tmp_path / "ck.pkl")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "key" in done.stdout


_FUNCTION_ATTRIBUTES = ("__qualname__", "__defaults__", "__dict__")


def test_build_cannot_modify_the_allowed_functions(tmp_path, fake_torch):
    target = torch_pickle._rebuild_tensor_v2
    before = {name: copy.copy(getattr(target, name)) for name in _FUNCTION_ATTRIBUTES}
    forge = (b"ctorch._utils\n_rebuild_tensor_v2\n"  # push the allowed function itself, then BUILD on it
             + _ops(({"marker": 1}, {"__qualname__": "pwned", "__defaults__": (7,)}))
             + pickle.BUILD + pickle.POP)
    storage = _FakeStorage("0", np.zeros(2, "<f4"))
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, (2,)), [storage], prefix=forge)
    try:
        with pytest.raises(UnsafeCheckpointError, match="BUILD"):
            load_torch_state_dict(path)
        assert {name: getattr(target, name) for name in _FUNCTION_ATTRIBUTES} == before
    finally:  # keep the rest of the run sound even when this test fails
        target.__qualname__, target.__defaults__ = before["__qualname__"], before["__defaults__"]
        target.__dict__.clear()
        target.__dict__.update(before["__dict__"])


def test_build_cannot_replace_a_storage(tmp_path, fake_torch):
    pid = ("storage", fake_torch.FloatStorage, "0", "cpu", 2)
    forge = _ops(pid) + pickle.BINPERSID + _ops({"array": "not numbers"}) + pickle.BUILD + pickle.POP
    storage = _FakeStorage("0", np.zeros(2, "<f4"))
    # no storage data follows: the forged array would be the one read
    path = _one_tensor_file(tmp_path, fake_torch, _Tensor(storage, (2,)), [], prefix=forge)
    with pytest.raises(UnsafeCheckpointError, match="BUILD"):
        load_torch_state_dict(path)


def test_build_setting_module_metadata_is_allowed(tmp_path, fake_torch):
    # torch.save of a state dict pickles its `_metadata` (module versions) with one BUILD
    storage = _FakeStorage("0", np.arange(2, dtype="<f4"))
    state = collections.OrderedDict(w=_Tensor(storage, (2,)))
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("conv", {"version": 2})])
    (tmp_path / "ck.pkl").write_bytes(_legacy_bytes(state, [storage], fake_torch))
    assert pickle.BUILD + pickle.STOP in (tmp_path / "ck.pkl").read_bytes()
    np.testing.assert_array_equal(load_torch_state_dict(tmp_path / "ck.pkl")["w"], [0, 1])


@pytest.mark.parametrize("attributes", [
    lambda tensor: {"extra": 1},
    lambda tensor: {"_metadata": {"": {"version": 1}}, "extra": 1},
    lambda tensor: {"_metadata": {"": {"version": tensor}}},
    lambda tensor: {"_metadata": {"": "not a dict"}},
], ids=["other-attribute", "metadata-and-another", "tensor-in-metadata", "metadata-not-a-dict"])
def test_build_with_anything_but_plain_metadata_is_refused(tmp_path, fake_torch, attributes):
    storage = _FakeStorage("0", np.arange(2, dtype="<f4"))
    state = collections.OrderedDict(w=_Tensor(storage, (2,)))
    vars(state).update(attributes(_Tensor(storage, (2,))))
    (tmp_path / "ck.pkl").write_bytes(_legacy_bytes(state, [storage], fake_torch))
    with pytest.raises(UnsafeCheckpointError, match="BUILD"):
        load_torch_state_dict(tmp_path / "ck.pkl")


def _real_checkpoints(shared_data):
    folders = [shared_data / "dmphn" / "checkpoints", shared_data / "salnet"]
    return sorted(p for folder in folders for ext in ("pkl", "pth", "pt") for p in folder.rglob(f"*.{ext}"))


def test_every_real_checkpoint_loads(shared_data):
    paths = _real_checkpoints(shared_data)
    if not paths:
        pytest.skip(f"no DMPHN or SalNet checkpoints under {shared_data}")
    for path in paths:
        sd = load_torch_state_dict(path)
        assert sd, path
        assert all(isinstance(v, np.ndarray) and v.size and np.isfinite(v).all() for v in sd.values()), path


def _pickles_end(data, count):
    """Where the ``count`` pickles at the start of ``data`` end."""
    stream = io.BytesIO(data)
    for _ in range(count):
        for _op in pickletools.genops(stream):
            pass
    return stream.tell()


def _assert_loads_or_refuses(path):
    try:
        sd = load_torch_state_dict(path)
    except UnsafeCheckpointError as e:
        assert "\n" not in str(e)
        return False
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    return True


def test_truncated_or_corrupted_real_checkpoint_is_refused_cleanly(tmp_path, shared_data):
    paths = _real_checkpoints(shared_data)
    if not paths:
        pytest.skip(f"no DMPHN or SalNet checkpoints under {shared_data}")
    data = min(paths, key=lambda p: p.stat().st_size).read_bytes()
    end = _pickles_end(data, 5)  # magic, protocol, system info, state dict, storage ids; then raw data
    rng = np.random.default_rng(0)
    path = tmp_path / "bad.pkl"
    for cut in sorted({0, 1, end - 1, end, end + 8, len(data) - 1, *rng.integers(0, end, 60).tolist()}):
        path.write_bytes(data[:cut])
        assert not _assert_loads_or_refuses(path), cut
    for pos, value in zip(rng.integers(0, end, 150).tolist(), rng.integers(0, 256, 150).tolist()):
        path.write_bytes(data[:pos] + bytes([value]) + data[pos + 1:])
        _assert_loads_or_refuses(path)


def test_truncated_or_corrupted_zip_checkpoint_is_refused_cleanly(tmp_path, fake_torch):
    weight = np.arange(20, dtype=np.float32)
    buf = io.BytesIO()
    _Pickler(buf, fake_torch).dump(collections.OrderedDict(w=_Tensor(_FakeStorage("0", weight), (4, 5))))
    with zipfile.ZipFile(tmp_path / "ck.pt", "w") as zf:
        zf.writestr("archive/data.pkl", buf.getvalue())
        zf.writestr("archive/data/0", weight.tobytes())
    data = (tmp_path / "ck.pt").read_bytes()
    rng = np.random.default_rng(0)
    path = tmp_path / "bad.pt"
    for cut in range(4, len(data), 7):
        path.write_bytes(data[:cut])
        assert not _assert_loads_or_refuses(path), cut
    for pos, value in zip(rng.integers(0, len(data), 300).tolist(), rng.integers(0, 256, 300).tolist()):
        path.write_bytes(data[:pos] + bytes([value]) + data[pos + 1:])
        _assert_loads_or_refuses(path)
