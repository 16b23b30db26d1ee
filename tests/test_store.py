"""The weights store: lookup order, verification, atomic downloads, offline errors."""

import hashlib
import os
import urllib.request

import pytest

from hgzoo.errors import WeightsIntegrityError, WeightsUnavailableError
from hgzoo.weights import manifest, store


def _preset(tmp_path, payload=b"weights-bytes", urls=()):
    src = tmp_path / "src.bin"
    src.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    if urls == "file":
        urls = (src.as_uri(),)
    wfile = manifest.WeightFile(path="checkpoints/X/enc.pkl", sha256=digest, size=len(payload), urls=tuple(urls))
    preset = manifest.Preset(id="toy", arch="hgzoo>DMPHN", task="deblur", version=1, default=False, config={},
                             files=(wfile,), converter=None, license="test", description="", input_contract={},
                             metrics={}, recipe=None, source=None)
    return preset, wfile, src


@pytest.fixture(autouse=True)
def _own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path / "home"))


@pytest.fixture
def no_urlopen(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the store made a network call")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_mirror_by_relative_path_and_by_sha(tmp_path, monkeypatch, no_urlopen):
    preset, wfile, src = _preset(tmp_path)
    mirror = tmp_path / "mirror"
    (mirror / "checkpoints/X").mkdir(parents=True)
    (mirror / wfile.path).write_bytes(src.read_bytes())
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", str(mirror))  # set after import: read at call time
    assert store.fetch(preset, wfile) == mirror / wfile.path
    (mirror / wfile.path).unlink()
    (mirror / wfile.sha256).write_bytes(src.read_bytes())
    assert store.fetch(preset, wfile) == mirror / wfile.sha256


def test_corrupt_mirror_file_raises(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path)
    mirror = tmp_path / "mirror"
    (mirror / "checkpoints/X").mkdir(parents=True)
    (mirror / wfile.path).write_bytes(b"something else")
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", str(mirror))
    with pytest.raises(WeightsIntegrityError, match=wfile.sha256):
        store.fetch(preset, wfile)


def test_corrupt_first_mirror_does_not_shadow_a_good_second(tmp_path, monkeypatch, no_urlopen):
    preset, wfile, src = _preset(tmp_path)
    bad, good = tmp_path / "bad", tmp_path / "good"
    for mirror, payload in ((bad, b"something else"), (good, src.read_bytes())):
        (mirror / "checkpoints/X").mkdir(parents=True)
        (mirror / wfile.path).write_bytes(payload)
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", f"{bad}{os.pathsep}{good}")
    with pytest.warns(UserWarning, match="skipped corrupt copies"):
        assert store.fetch(preset, wfile) == good / wfile.path


def test_offline_miss_names_everything(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path, urls=("https://example.invalid/enc.pkl",))
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(WeightsUnavailableError) as info:
        store.fetch(preset, wfile)
    message = str(info.value)
    for needle in ("toy", wfile.path, wfile.sha256, str(tmp_path / "nowhere"), "HGZOO_OFFLINE",
                   "hgzoo weights download toy", "HGZOO_WEIGHTS_DIR", str(store.cache_path(preset, wfile))):
        assert needle in message
    assert isinstance(info.value, OSError)


def test_download_then_cache_hit_without_network(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path, urls="file")
    monkeypatch.setenv("HGZOO_OFFLINE", "0")
    path = store.fetch(preset, wfile, progress=False)
    assert path == store.cache_path(preset, wfile)
    assert not list(path.parent.glob("*.part-*"))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(AssertionError("network")))
    assert store.fetch(preset, wfile) == path


def test_download_with_wrong_hash_is_deleted(tmp_path, monkeypatch):
    preset, wfile, src = _preset(tmp_path, urls="file")
    src.write_bytes(b"tampered")
    monkeypatch.setenv("HGZOO_OFFLINE", "0")
    with pytest.raises(WeightsIntegrityError, match="deleted"):
        store.fetch(preset, wfile, progress=False)
    folder = store.cache_path(preset, wfile).parent
    assert not [p for p in folder.iterdir() if not p.name.endswith(".lock")]


def test_unreachable_url_lists_reason(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path, urls=((tmp_path / "missing.bin").as_uri(),))
    monkeypatch.setenv("HGZOO_OFFLINE", "0")
    with pytest.raises(WeightsUnavailableError, match="missing.bin"):
        store.fetch(preset, wfile, progress=False)


def test_leftover_part_file_is_never_used(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path)
    target = store.cache_path(preset, wfile)
    target.parent.mkdir(parents=True)
    (target.parent / f"{target.name}.part-123").write_bytes(b"weights-bytes")
    assert store.locate(preset, wfile) is None


def test_converted_cache_detects_corruption(tmp_path):
    preset = manifest.get("dmphn_1_2_4_gopro")
    assert store.load_converted(preset) is None
    path = store.save_converted(preset, lambda p: p.write_bytes(b"converted"))
    assert store.load_converted(preset) == path
    path.write_bytes(b"corrupted")
    assert store.load_converted(preset) is None
    assert not path.exists()


def test_where_and_download_to(tmp_path, weights_dir):
    rows = store.where("dmphn_1_2_4_gopro")
    assert len(rows) == 6 and all(status == "ok" for _, status, _ in rows)
    copied = store.download_to("dmphn_1_2_4_gopro", tmp_path / "dest", progress=False)
    assert (tmp_path / "dest/checkpoints/DMPHN_1_2_4/encoder_lv1.pkl") in copied


def test_manifest_is_valid_and_joins_registry():
    import hgzoo

    assert manifest.validate() == []
    classes = {f"hgzoo>{c.__name__}" for c in hgzoo.model_classes().values()}
    for preset in manifest.all_presets().values():
        assert preset.arch in classes, f"{preset.id} names unregistered {preset.arch}"
        assert preset.task == hgzoo.get_model_class(preset.id).task


def _dead_pid():
    """The PID of a process that has exited (reaped, so os.kill(pid, 0) fails)."""
    import subprocess
    import sys

    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_stale_parts_are_cleaned_live_ones_kept(tmp_path):
    import os
    import time

    preset, wfile, _ = _preset(tmp_path)
    folder = store.cache_path(preset, wfile).parent
    folder.mkdir(parents=True)
    dead = folder / f"{wfile.name}.part-{_dead_pid()}"
    live = folder / f"{wfile.name}.part-{os.getppid()}"  # a live process writing: never touched
    old = folder / f"{wfile.name}.part-{os.getppid()}9"
    for part in (dead, live, old):
        part.write_bytes(b"half a file")
    os.utime(old, (time.time() - 3 * 86400,) * 2)  # nobody wrote to it for days (a reused PID, or no process)
    assert store.locate(preset, wfile) is None  # the next read of that folder cleans it
    assert sorted(p.name for p in folder.iterdir() if ".part-" in p.name) == [live.name]


def test_a_read_never_cleans_while_a_writer_holds_the_lock(tmp_path):
    preset, wfile, _ = _preset(tmp_path)
    target = store.cache_path(preset, wfile)
    target.parent.mkdir(parents=True)
    part = target.parent / f"{target.name}.part-{_dead_pid()}"
    part.write_bytes(b"half")
    with store._lock(target) as locked:
        assert locked
        assert store.locate(preset, wfile) is None
        assert part.exists()
    store.locate(preset, wfile)
    assert not part.exists()


def test_download_cleans_stale_parts(tmp_path, monkeypatch):
    preset, wfile, _ = _preset(tmp_path, urls="file")
    target = store.cache_path(preset, wfile)
    target.parent.mkdir(parents=True)
    (target.parent / f"{target.name}.part-{_dead_pid()}").write_bytes(b"half")
    monkeypatch.setenv("HGZOO_OFFLINE", "0")
    assert store.fetch(preset, wfile, progress=False) == target
    assert not list(target.parent.glob("*.part-*"))


def test_killed_conversion_part_is_cleaned_and_a_failed_one_leaves_none(tmp_path):
    preset = manifest.get("dmphn_1_2_4_gopro")
    path = store.converted_path(preset)
    path.parent.mkdir(parents=True)
    stale = path.with_name(f"{path.stem}.part-{_dead_pid()}.weights.h5")
    stale.write_bytes(b"half a conversion")
    assert store.load_converted(preset) is None and not stale.exists()

    def fail(part):
        part.write_bytes(b"half")
        raise RuntimeError("converter crashed")

    with pytest.raises(RuntimeError):
        store.save_converted(preset, fail)
    assert not list(path.parent.glob("*.part-*"))
    assert store.save_converted(preset, lambda p: p.write_bytes(b"converted")) == path
