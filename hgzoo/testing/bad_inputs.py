"""Careless and hostile inputs, by kind, to check that an entry point refuses each one clearly.

hgzoo's own sweep (``tests/test_bad_inputs.py``) runs every family's loaders,
models and commands against these; a new family adds its entry points there,
and you can run your own loaders against them the same way.

Kinds and what their ``make(folder)`` returns:

- ``image``: a path to an image file that cannot be read as one;
- ``pixels``: an array that is no usable image (0-255 floats, NaN, wrong rank or channels, empty);
- ``episode``: a few-shot episode ``(support_images, support_labels, query_images)`` that does not fit together;
- ``tsv``: a path to a text-classification TSV that cannot be read as one;
- ``checkpoint``: a path to a file that is no safe ``torch.save`` state dict;
- ``weights``: a path to a file that is no ``.weights.h5`` of an hgzoo model;
- ``cert``: a path to a CERT insider-threat release folder (logon.csv, http.csv, ..., answers/) that is broken.
- ``zsl_mat``: a path to a zero-shot ``.mat`` file (``att_splits.mat``, ``res101.mat``) that cannot be used.

:func:`assert_refused` runs ``call(input)`` and checks that it raises an error
a user can act on: an hgzoo error, ``ValueError`` or ``OSError`` with a
one-line message; never a raw ``KeyError``, ``IndexError`` or ``TypeError``
from deep inside a library, and never a result.

Example:

>>> import tempfile
>>> from hgzoo.data.images import read_image
>>> from hgzoo.testing.bad_inputs import BAD_INPUTS, assert_refused
>>> sorted(BAD_INPUTS)
['cert', 'checkpoint', 'episode', 'image', 'pixels', 'tsv', 'weights', 'zsl_mat']
>>> for bad in BAD_INPUTS["image"]:
...     error = assert_refused(read_image, bad, tempfile.mkdtemp())
"""

import dataclasses
import io
import os
import pickle
import zipfile

import numpy as np

from hgzoo.errors import HgzooError

ACTIONABLE = (HgzooError, ValueError, OSError)


@dataclasses.dataclass(frozen=True)
class BadInput:
    """One bad input: ``make(folder)`` builds it inside ``folder`` and returns it.

    >>> import tempfile
    >>> bad = BadInput("image", "empty", _file("empty.png", b""))
    >>> os.path.getsize(bad.make(tempfile.mkdtemp()))
    0
    """

    kind: str
    name: str
    make: object

    def __repr__(self):
        return f"{self.kind}:{self.name}"


def _file(name, data):
    def make(folder):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    return make


def _missing(name):
    return lambda folder: os.path.join(folder, "no_such_folder", name)


def _directory(name):
    def make(folder):
        path = os.path.join(folder, name)
        os.makedirs(path, exist_ok=True)
        return path

    return make


def _png_bytes(shape=(8, 8, 3)):
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full(shape, 128, np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _decompression_bomb(folder):
    # A 1-bit PNG of 200 megapixels: 25 MB of zeros, a few kB on disk, over Pillow's 179 MP bomb limit.
    from PIL import Image

    path = os.path.join(folder, "bomb.png")
    Image.new("1", (20000, 10000)).save(path, optimize=False)
    return path


def _torch_zip(pickle_bytes):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def _pickle_calling(module, name, argument):
    # GLOBAL module.name, then call it: what a malicious checkpoint does to run code on load.
    return (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n"
            + pickle.dumps((argument,), protocol=2)[2:-1] + b"R.")


def _foreign_weights(folder):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = os.path.join(folder, "dense.weights.h5")
    model.save_weights(path)
    return path


def _truncated(make_valid, fraction=0.5):
    def make(folder):
        path = make_valid(folder)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: int(len(data) * fraction)])
        return path

    return make


def _episode(support=None, labels=None, query=None, n_way=2, k_shot=2, size=28):
    def make(folder):
        rng = np.random.default_rng(0)
        s = rng.random((n_way * k_shot, size, size, 1), dtype=np.float32) if support is None else support
        y = np.repeat(np.arange(n_way), k_shot) if labels is None else labels
        q = rng.random((3, size, size, 1), dtype=np.float32) if query is None else query
        return s, y, q

    return make


def _nan_images():
    x = np.full((4, 28, 28, 1), 0.5, np.float32)
    x[1, 2, 3] = np.nan
    return x


_CERT_FILES = {
    "logon.csv": "id,date,user,pc,activity\n{A},01/04/2010 09:00:00,AAA0001,PC-1,Logon\n",
    "device.csv": "id,date,user,pc,activity\n{B},01/04/2010 09:05:00,AAA0001,PC-1,Connect\n",
    "file.csv": "id,date,user,pc,filename,content\n{C},01/04/2010 09:10:00,AAA0001,PC-1,C:\\a.doc,x\n",
    "http.csv": "id,date,user,pc,url,content\n{D},01/04/2010 09:20:00,AAA0001,PC-1,http://a.com,x\n",
    "email.csv": "id,date,user,pc,to,cc,bcc,from,size,attachments,content\n"
                 "{E},01/04/2010 09:30:00,AAA0001,PC-1,b@x.com,,,a@x.com,100,0,x\n",
    "answers/insiders.csv": "dataset,scenario,details,user,start,end\n"
                            "4.2,1,none.csv,AAA0001,01/04/2010 09:00:00,01/04/2010 10:00:00\n",
}


def _cert(**changes):
    """A one-event CERT folder with ``changes`` ({file: new bytes, or None to leave it out})."""
    def make(folder):
        root = os.path.join(folder, "r4.2")
        for name, text in _CERT_FILES.items():
            data = changes.get(name, text.encode())
            if data is not None:
                os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
                with open(os.path.join(root, name), "wb") as f:
                    f.write(data)
        return root

    return make


def _mat(name, **arrays):
    """A real MATLAB file holding only ``arrays`` (SciPy imported when the input is made)."""
    def make(folder):
        from scipy import io as sio

        path = os.path.join(folder, name)
        sio.savemat(path, arrays)
        return path

    return make


BAD_INPUTS = {
    "zsl_mat": [
        BadInput("zsl_mat", "missing", _missing("att_splits.mat")),
        BadInput("zsl_mat", "directory", _directory("att_splits.mat")),
        BadInput("zsl_mat", "empty", _file("empty.mat", b"")),
        BadInput("zsl_mat", "text", _file("notes.mat", b"not a MATLAB file\n")),
        BadInput("zsl_mat", "missing_keys", _mat("other.mat", att=np.ones((3, 2)))),
        BadInput("zsl_mat", "truncated", _truncated(_mat("cut.mat", att=np.ones((40, 50)), features=np.ones((40, 50))))),
    ],
    "cert": [
        BadInput("cert", "missing", _missing("r4.2")),
        BadInput("cert", "no_http", _cert(**{"http.csv": None})),
        BadInput("cert", "wrong_header", _cert(**{"logon.csv": b"when,who,where\n01/04/2010 09:00:00,A,B\n"})),
        BadInput("cert", "wrong_column_count", _cert(**{"logon.csv": b"id,date,user,pc,activity\n{A},AAA0001\n"})),
        BadInput("cert", "bad_timestamp", _cert(**{"device.csv": b"id,date,user,pc,activity\n"
                                                                 b"{B},2010-01-04T09:05,AAA0001,PC-1,Connect\n"})),
        BadInput("cert", "empty_file", _cert(**{"email.csv": b""})),
        BadInput("cert", "not_utf8", _cert(**{"file.csv": "id,date,user,pc,filename,content\n{C},01/04/2010 "
                                                          "09:10:00,AAA0001,PC-1,caf\xe9.doc,x\n".encode("latin-1")})),
        BadInput("cert", "unknown_insider", _cert(**{"answers/insiders.csv": b"dataset,scenario,details,user,start,"
                                                     b"end\n4.2,1,x.csv,ZZZ9999,01/04/2010 09:00:00,01/04/2010 "
                                                     b"10:00:00\n"})),
    ],
    "image": [
        BadInput("image", "missing", _missing("photo.png")),
        BadInput("image", "directory", _directory("photos.png")),
        BadInput("image", "empty", _file("empty.png", b"")),
        BadInput("image", "text", _file("notes.png", b"not an image at all\n")),
        BadInput("image", "truncated", _truncated(_file("cut.png", _png_bytes((64, 64, 3))))),
        BadInput("image", "decompression_bomb", _decompression_bomb),
    ],
    "pixels": [
        BadInput("pixels", "float_0_255", lambda folder: np.full((8, 8, 3), 200.0, np.float32)),
        BadInput("pixels", "nan", lambda folder: np.full((8, 8, 3), np.nan, np.float32)),
        BadInput("pixels", "rank_4", lambda folder: np.zeros((1, 8, 8, 3), np.uint8)),
        BadInput("pixels", "five_channels", lambda folder: np.zeros((8, 8, 5), np.uint8)),
        BadInput("pixels", "empty", lambda folder: np.zeros((0, 8, 3), np.uint8)),
        BadInput("pixels", "strings", lambda folder: np.array([["a", "b"], ["c", "d"]])),
    ],
    "episode": [
        BadInput("episode", "label_out_of_range", _episode(labels=np.array([0, 0, 1, 5]))),
        BadInput("episode", "negative_label", _episode(labels=np.array([0, 0, -1, -1]))),
        BadInput("episode", "float_labels", _episode(labels=np.array([0.0, 0.0, 1.0, 1.0]))),
        BadInput("episode", "unbalanced", _episode(labels=np.array([0, 0, 0, 1]))),
        BadInput("episode", "nan_pixels", _episode(support=_nan_images())),
        BadInput("episode", "pixels_0_255", _episode(support=np.full((4, 28, 28, 1), 200.0, np.float32),
                                                     query=np.full((3, 28, 28, 1), 200.0, np.float32))),
        BadInput("episode", "labels_do_not_match_images", _episode(labels=np.array([0, 1]))),
    ],
    "tsv": [
        BadInput("tsv", "missing", _missing("train.tsv")),
        BadInput("tsv", "directory", _directory("train.tsv")),
        BadInput("tsv", "empty", _file("empty.tsv", b"")),
        BadInput("tsv", "comma_separated", _file("comma.tsv", b"sentence,label\ngood film,1\nbad film,0\n")),
        BadInput("tsv", "not_utf8", _file("latin1.tsv", "sentence\tlabel\ncaf\xe9 cr\xe8me\t1\n".encode("latin-1"))),
        BadInput("tsv", "binary", _file("binary.tsv", bytes(range(256)) * 4)),
    ],
    "checkpoint": [
        BadInput("checkpoint", "missing", _missing("model.pkl")),
        BadInput("checkpoint", "empty", _file("empty.pkl", b"")),
        BadInput("checkpoint", "text", _file("notes.pkl", b"not a checkpoint\n")),
        BadInput("checkpoint", "runs_code", _file("evil.pkl", _pickle_calling("os", "system", "echo owned"))),
        BadInput("checkpoint", "runs_code_zip", _file("evil.pt", _torch_zip(_pickle_calling("os", "system", "true")))),
        BadInput("checkpoint", "truncated_zip",
                 _truncated(_file("cut.pt", _torch_zip(pickle.dumps({"w": 1}, protocol=2))))),
    ],
    "weights": [
        BadInput("weights", "missing", _missing("model.weights.h5")),
        BadInput("weights", "empty", _file("empty.weights.h5", b"")),
        BadInput("weights", "text", _file("notes.weights.h5", b"not hdf5\n")),
        BadInput("weights", "another_model", _foreign_weights),
        BadInput("weights", "truncated", _truncated(_foreign_weights)),
    ],
}


def assert_refused(call, bad, folder):
    """Build ``bad`` in ``folder`` and check that ``call(input)`` refuses it with one clear line.

    Returns the exception, for further checks.
    """
    value = bad.make(os.fspath(folder))
    try:
        result = call(value)
    except ACTIONABLE as e:
        message = str(e)
        if not message.strip() or "\n" in message.strip():
            raise AssertionError(f"{bad!r}: {type(e).__name__} needs a one-line message, got {message!r}") from e
        return e
    except Exception as e:
        raise AssertionError(f"{bad!r}: raised {type(e).__name__} ({str(e)[:200]!r}); expected an hgzoo "
                             f"error, ValueError or OSError with a clear message") from e
    raise AssertionError(f"{bad!r}: accepted, returning {type(result).__name__}; expected a clear error")
