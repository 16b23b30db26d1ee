"""Writing files so that a kill never leaves a half-written one, and cleaning what killed writers left.

Every file hgzoo writes for a user (images, trained weights, resume
checkpoints, logs, saved models, caches) goes through :func:`replace_atomically`:
it is written to a hidden temporary file beside its final name, synced, and
renamed over it, so the final name holds the old file or the new one, never a
part. (The weight store does the same for downloads and conversions through
``.part-PID`` files under a lock; exports swap whole version folders.) Temporaries
carry their writer's process id; :func:`remove_leftovers` deletes those whose
writer is gone (or that nobody touched for a day), never a live writer's.

Example:

>>> import os, pathlib, tempfile
>>> from hgzoo.files import replace_atomically
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> replace_atomically(path, lambda tmp: pathlib.Path(tmp).write_text("kept whole"))
>>> open(path).read(), os.listdir(os.path.dirname(path))
('kept whole', ['notes.txt'])
"""

import os
import re
import time
import uuid

STALE_AFTER_S = 24 * 3600  # a temporary untouched this long is stale even if its PID was reused

# What temporary_path makes: ".<name>.tmp-<pid>-<8 hex><suffix>".
TEMPORARY = re.compile(r"\..+\.tmp-(?P<pid>\d+)-[0-9a-f]{8}(\.[\w.]+)?")


def temporary_path(path, suffix=""):
    """A hidden, unique name beside ``path`` for writing it; ``suffix`` for writers that want an extension."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


def replace_atomically(path, write, suffix="", keep=None):
    """Call ``write(tmp)`` to write a temporary file, sync it, and rename it to ``path``.

    Args:
        path: the final name.
        write: a function that writes the file at the path it is given.
        suffix: an extension the temporary name must end with (``np.save``
            appends ``.npy``, Keras wants ``.weights.h5``).
        keep: a path the existing ``path`` is moved to just before the new
            file takes its place, so a good previous copy always exists.

    A failure (or a kill) before the rename leaves ``path`` as it was; the
    temporary is removed when Python can still do so.
    """
    tmp = temporary_path(path, suffix)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if keep is not None and os.path.exists(path):
            os.replace(path, keep)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def pid_alive(pid):
    """Whether process ``pid`` runs (on this machine); True where that cannot be asked safely."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: rely on the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def is_stale(path, pid):
    """A leftover of process ``pid`` at ``path`` is stale when that process is gone or it is a day old."""
    return pid != os.getpid() and (not pid_alive(pid) or time.time() - os.stat(path).st_mtime > STALE_AFTER_S)


def remove_leftovers(folder, pattern=TEMPORARY):
    """Delete the files in ``folder`` whose name fully matches ``pattern`` (a regex with a ``pid`` group)
    and that are stale (:func:`is_stale`). Returns the paths removed.

    >>> import pathlib, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> live = temporary_path(os.path.join(folder, "x.png"))
    >>> _ = pathlib.Path(live).write_text("being written")
    >>> remove_leftovers(folder)
    []
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder, or unreadable: nothing to clean
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if match and entry.is_file() and is_stale(entry.path, int(match["pid"])):
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:  # gone meanwhile, or a read-only folder: leave it
            continue
    return removed
