"""Find, verify, download and cache weight files.

Lookup order for each file of a preset, read at call time:

1. ``HGZOO_WEIGHTS_DIR`` mirrors (``os.pathsep``-separated, read-only): the file
   by its path relative to its source repository (``checkpoints/DMPHN_1_2_4/
   encoder_lv1.pkl``) or by its sha256 as file name;
2. files packaged with hgzoo (weights hgzoo trained itself);
3. the content-addressed cache ``$HGZOO_HOME/weights/<preset>/<sha256[:16]>/<name>``;
4. a download from the listed URLs, unless ``HGZOO_OFFLINE=1``.

Every file is sha256-verified before use. Downloads and conversions go to a
``.part-<pid>`` file that is hashed and renamed into place under a lock; parts
left by a killed process are deleted the next time the store writes or reads
that folder (never one a live process is writing). A cache hit makes no
network call. When nothing works, :class:`~hgzoo.errors.WeightsUnavailableError` names
the preset, file, hash, every place searched and how to fix it.

Example:

>>> from hgzoo.weights import store
>>> paths = store.fetch_preset("dmphn_1_2_4_gopro")  # doctest: +SKIP
"""

import contextlib
import hashlib
import os
import re
import shutil
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from hgzoo import config
from hgzoo.errors import WeightsIntegrityError, WeightsUnavailableError
from hgzoo.files import remove_leftovers
from hgzoo.weights import manifest

_CHUNK = 1 << 20
_PART = re.compile(r".*\.part-(?P<pid>\d+)(\.weights\.h5)?")


def sha256_file(path):
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _lock(path, blocking=True):
    """An exclusive advisory lock on ``path`` + ``.lock``; yields whether it was taken.

    Non-blocking, it yields False when another process holds it. Where fcntl is
    missing (Windows) it locks nothing and yields True.
    """
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: fall back to no locking
            yield True
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_parts(folder):
    """Delete the ``.part-PID`` files in ``folder`` that killed writers left behind; returns their paths.

    A part is stale when its writer is gone, or when nobody wrote to it for a
    day (its PID reused); a part that a live process is writing is never deleted.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / f"x.pkl.part-{os.getpid()}").write_bytes(b"being written")
    >>> remove_stale_parts(folder)
    []
    """
    return [Path(p) for p in remove_leftovers(folder, _PART)]


def _remove_stale_parts_if_idle(target):
    """Clean ``target``'s folder on a read, only while no process holds its lock (no one is writing)."""
    folder = target.parent
    if not folder.is_dir() or not any(_PART.fullmatch(name) for name in os.listdir(folder)):
        return
    try:
        with _lock(target, blocking=False) as locked:
            if locked:
                remove_stale_parts(folder)
    except OSError:  # a read-only cache: reading must still work
        pass


def cache_path(preset, wfile):
    """Where ``wfile`` of ``preset`` lives in the cache (whether or not it exists)."""
    return config.home_dir() / "weights" / preset.id / wfile.sha256[:16] / wfile.name


def _verify(path, wfile):
    actual = sha256_file(path)
    if actual != wfile.sha256:
        raise WeightsIntegrityError(
            f"{path} has sha256 {actual}, but the manifest pins {wfile.sha256} for "
            f"{wfile.path}. The file is corrupt or a different version: delete or replace it."
        )
    return path


def candidates(preset, wfile):
    """Every local place searched for ``wfile``, in lookup order, as (label, path)."""
    places = []
    for mirror in config.mirror_dirs():
        places.append(("mirror", mirror / wfile.path))
        places.append(("mirror", mirror / wfile.sha256))
    if wfile.path.startswith("files/"):
        places.append(("packaged", Path(str(manifest.packaged_file(wfile.path)))))
    places.append(("cache", cache_path(preset, wfile)))
    return places


def locate(preset, wfile):
    """The first verified local copy of ``wfile``, or None.

    A corrupt copy never shadows a good one further down the lookup order:
    it is skipped with a warning. Corrupt copies and no good one raise
    WeightsIntegrityError naming them all (a download would not fix a mirror).
    """
    _remove_stale_parts_if_idle(cache_path(preset, wfile))
    corrupt = []
    for _, path in candidates(preset, wfile):
        if not path.is_file():
            continue
        try:
            found = _verify(path, wfile)
        except WeightsIntegrityError as e:
            corrupt.append(e)
            continue
        if corrupt:
            warnings.warn(f"skipped corrupt copies of {wfile.path}: {'; '.join(map(str, corrupt))}; "
                          f"using {found}", stacklevel=2)
        return found
    if corrupt:
        raise WeightsIntegrityError("; ".join(map(str, corrupt)))
    return None


def _progress_bar(total, label):
    import keras

    print(f"Downloading {label} ({total / 1e6:.1f} MB)")
    return keras.utils.Progbar(total, unit_name="B")


def _download(url, target, wfile, progress):
    """Download ``url`` into ``target`` atomically, verifying the sha256."""
    part = Path(f"{target}.part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
            bar = _progress_bar(wfile.size, wfile.path) if progress else None
            done = 0
            for block in iter(lambda: response.read(_CHUNK), b""):
                out.write(block)
                digest.update(block)
                done += len(block)
                if bar:
                    bar.update(min(done, wfile.size))
        if digest.hexdigest() != wfile.sha256:
            raise WeightsIntegrityError(
                f"download of {url} has sha256 {digest.hexdigest()}, expected {wfile.sha256}; "
                "the file was deleted. The server may serve a different version."
            )
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def _unavailable(preset, wfile, reasons):
    searched = "\n".join(f"  - {label}: {path}" for label, path in candidates(preset, wfile))
    why = "\n".join(f"  - {r}" for r in reasons)
    return WeightsUnavailableError(
        f"weights for preset {preset.id!r} (v{preset.version}) are not available.\n"
        f"Missing file: {wfile.path} (sha256 {wfile.sha256}, {wfile.size} bytes)\n"
        f"Searched:\n{searched}\n"
        f"Download:\n{why}\n"
        "Fix: on a machine with network access run\n"
        f"  hgzoo weights download {preset.id} --dest DIR\n"
        "copy DIR here and set HGZOO_WEIGHTS_DIR=DIR (the same layout as the source "
        "repository also works), or pass pretrained='/path/to/file.weights.h5'."
    )


def fetch(preset, wfile, progress=True):
    """A verified local path to ``wfile``, downloading it into the cache if needed."""
    found = locate(preset, wfile)
    if found is not None:
        return found
    if config.offline():
        raise _unavailable(preset, wfile, ["skipped: HGZOO_OFFLINE is set"])
    if not wfile.urls:
        raise _unavailable(preset, wfile, ["skipped: the manifest lists no URL for this file"])
    target = cache_path(preset, wfile)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create the hgzoo cache folder {target.parent}: {e}; "
                      "set HGZOO_HOME to a writable folder") from e
    reasons = []
    with _lock(target):
        if target.is_file():  # another process finished it while we waited
            return _verify(target, wfile)
        remove_stale_parts(target.parent)
        for url in wfile.urls:
            try:
                return _download(url, target, wfile, progress)
            except WeightsIntegrityError:
                raise
            except (urllib.error.URLError, OSError, TimeoutError) as e:
                reasons.append(f"{url}: {e}")
    raise _unavailable(preset, wfile, reasons) from None


def fetch_preset(preset_id, progress=True):
    """Every file of a preset as ``{relative path: local Path}``."""
    preset = manifest.get(preset_id)
    return {f.path: fetch(preset, f, progress) for f in preset.files}


def download_to(preset_id, dest, progress=True):
    """Fetch a preset and copy its files to ``dest`` in mirror layout.

    ``dest`` can then be used as ``HGZOO_WEIGHTS_DIR`` on an offline machine.
    """
    dest = Path(dest)
    copied = []
    for rel, path in fetch_preset(preset_id, progress).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or sha256_file(target) != sha256_file(path):
            shutil.copyfile(path, target)
        copied.append(target)
    return copied


def converted_path(preset):
    """Cache location of a third-party preset converted to Keras weights.

    Keyed by the source files' hashes and the converter version, so a new
    converter or new source files never reuse a stale conversion.
    """
    key = hashlib.sha256("".join(sorted(f.sha256 for f in preset.files)).encode()).hexdigest()
    folder = f"{key[:16]}-c{preset.converter_version}"
    return config.home_dir() / "converted" / preset.id / folder / f"{preset.id}.weights.h5"


def load_converted(preset):
    """A verified converted weights file from the cache, or None."""
    path = converted_path(preset)
    _remove_stale_parts_if_idle(path)
    sidecar = Path(f"{path}.sha256")
    if not (path.is_file() and sidecar.is_file()):
        return None
    if sha256_file(path) != sidecar.read_text().strip():
        path.unlink(missing_ok=True)  # corrupt: convert again
        return None
    return path


def save_converted(preset, write_fn):
    """Write a conversion atomically into the cache; ``write_fn(path)`` writes it.

    Returns the final path, or None where the cache is not writable (the
    conversion is then simply redone next time).
    """
    path = converted_path(preset)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _lock(path):
            remove_stale_parts(path.parent)
            part = path.with_name(f"{path.stem}.part-{os.getpid()}.weights.h5")
            try:
                write_fn(part)
                digest = sha256_file(part)
                os.replace(part, path)
                Path(f"{path}.sha256").write_text(digest + "\n")
            finally:
                part.unlink(missing_ok=True)
        return path
    except OSError:
        return None


def where(preset_id):
    """``(file, status, path)`` rows telling where each file of a preset is found."""
    preset = manifest.get(preset_id)
    rows = []
    for f in preset.files:
        try:
            found = locate(preset, f)
            rows.append((f.path, "ok" if found else "missing", str(found or cache_path(preset, f))))
        except WeightsIntegrityError as e:
            rows.append((f.path, "corrupt", str(e)))
    return rows


def available_locally(preset_id):
    """True when a preset loads without any download (mirror, package or cache)."""
    preset = manifest.get(preset_id)
    if preset.converter and load_converted(preset) is not None:
        return True
    try:
        return all(locate(preset, f) is not None for f in preset.files)
    except WeightsIntegrityError:
        return False
