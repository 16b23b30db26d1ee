"""The restricted torch.save reader: real checkpoints, both formats, hostile pickles."""

import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

from hgzoo.errors import UnsafeCheckpointError
from hgzoo.weights import load_torch_state_dict


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
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (_torch_module("torch._utils")._rebuild_tensor_v2,
                (self.storage, 0, self.shape, stride, False, collections.OrderedDict()))


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


def _write_legacy(path, tensors, torch):
    storages = {}
    state = collections.OrderedDict()
    for i, (name, array) in enumerate(tensors.items()):
        storages[str(i)] = _FakeStorage(str(i), array.astype("<f4"))
        state[name] = _Tensor(storages[str(i)], array.shape)
    buf = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump({"little_endian": True}, buf, protocol=2)
    _Pickler(buf, torch).dump(state)
    pickle.dump(list(storages), buf, protocol=2)
    for s in storages.values():
        buf.write(struct.pack("<q", s.array.size))
        buf.write(s.array.tobytes())
    path.write_bytes(buf.getvalue())


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
