"""The weights manifest: every preset hgzoo knows, read from package data.

The source of truth is ``weights/manifests/<family>.json`` in the repository,
shipped in the wheel as the package ``hgzoo._data``. Each entry names the
architecture (``"arch": "hgzoo>DMPHN"``), its constructor config, where its
weights come from (``file`` for weights hgzoo publishes, ``source`` +
``converter`` for third-party checkpoints converted locally), licence, input
contract, recipe, measured metrics and golden values (a few output numbers on
a fixed input that :func:`hgzoo.testing.run_preset_test` checks, so weights
loaded into the wrong layers fail a test).

Example:

>>> from hgzoo.weights import manifest
>>> entry = manifest.get("dmphn_1_2_4_gopro")
>>> entry.arch, entry.config["levels"]
('hgzoo>DMPHN', [1, 2, 4])
"""

import dataclasses
import fnmatch
import functools
import json
import re
from importlib import resources

from hgzoo.errors import UnknownPresetError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GOLDEN_KEYS = {"input", "shape", "mean", "std", "values"}


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """One file of a preset: its path relative to its source, hash, size, URLs."""

    path: str
    sha256: str
    size: int
    urls: tuple = ()

    @property
    def name(self):
        return self.path.rsplit("/", 1)[-1]


@dataclasses.dataclass(frozen=True)
class Preset:
    """A manifest entry. ``files`` are what is fetched; ``converter`` (``name@version``)
    is set when they are third-party checkpoints to convert locally."""

    id: str
    arch: str
    task: str
    version: int
    default: bool
    config: dict
    files: tuple
    converter: str | None
    license: str
    description: str
    input_contract: dict
    metrics: dict
    recipe: str | None
    source: str | None
    golden: dict = dataclasses.field(default_factory=dict)

    @property
    def converter_name(self):
        return self.converter.split("@")[0] if self.converter else None

    @property
    def converter_version(self):
        return int(self.converter.split("@")[1]) if self.converter else None

    @property
    def total_size(self):
        return sum(f.size for f in self.files)

    def as_dict(self):
        """A JSON-friendly summary, used as ``model.pretrained_cfg``."""
        d = dataclasses.asdict(self)
        d["files"] = [dataclasses.asdict(f) for f in self.files]
        return d


def _data_root():
    return resources.files("hgzoo._data")


def packaged_file(relative_path):
    """A path inside the packaged ``weights/`` folder (a Traversable)."""
    node = _data_root()
    for part in relative_path.split("/"):
        node = node / part
    return node


def _parse_entry(preset_id, raw, family):
    files_raw = raw.get("files") or []
    files = tuple(
        WeightFile(path=f["path"], sha256=f["sha256"], size=int(f["size"]), urls=tuple(f.get("urls", ())))
        for f in files_raw
    )
    return Preset(
        id=preset_id,
        arch=raw["arch"],
        task=raw.get("task", family),
        version=int(raw.get("version", 1)),
        default=bool(raw.get("default", False)),
        config=dict(raw.get("config", {})),
        files=files,
        converter=raw.get("converter"),
        license=raw.get("license", ""),
        description=raw.get("description", ""),
        input_contract=dict(raw.get("input_contract", {})),
        metrics=dict(raw.get("metrics", {})),
        recipe=raw.get("recipe"),
        source=raw.get("source"),
        golden=dict(raw.get("golden", {})),
    )


@functools.lru_cache(maxsize=None)
def _load_all():
    presets = {}
    for node in sorted(_data_root().joinpath("manifests").iterdir(), key=lambda n: n.name):
        if not node.name.endswith(".json"):
            continue
        family = node.name[: -len(".json")]
        for preset_id, raw in json.loads(node.read_text()).items():
            if preset_id in presets:
                raise ValueError(f"preset {preset_id!r} is defined twice (second time in {node.name})")
            presets[preset_id] = _parse_entry(preset_id, raw, family)
    return presets


def all_presets():
    """Every preset, keyed by id."""
    return dict(_load_all())


def get(preset_id):
    """The preset ``preset_id``; raises UnknownPresetError listing valid ids."""
    presets = _load_all()
    if preset_id not in presets:
        close = fnmatch.filter(presets, f"*{preset_id}*") or sorted(presets)
        raise UnknownPresetError(
            f"unknown preset {preset_id!r}; known presets: {', '.join(sorted(close))}"
        )
    return presets[preset_id]


def presets_for(arch):
    """Presets whose ``arch`` is the registered name ``arch`` (e.g. ``hgzoo>DMPHN``)."""
    return [p for p in _load_all().values() if p.arch == arch]


def validate():
    """Check every entry; returns a list of problems (empty when all is well)."""
    problems = []
    defaults = {}
    for p in _load_all().values():
        if not p.files:
            problems.append(f"{p.id}: no files")
        for f in p.files:
            if not _SHA256.match(f.sha256):
                problems.append(f"{p.id}: {f.path}: sha256 is not 64 lowercase hex digits")
            if f.size <= 0:
                problems.append(f"{p.id}: {f.path}: size must be positive")
            if any(not u.startswith("https://") for u in f.urls):
                problems.append(f"{p.id}: {f.path}: every URL must be https")
            if p.converter is None and not f.urls and not f.path.startswith("files/"):
                problems.append(f"{p.id}: {f.path}: neither packaged nor downloadable")
        if p.converter and not re.match(r"^[a-z0-9_]+@\d+$", p.converter):
            problems.append(f"{p.id}: converter must look like name@version")
        if not p.license:
            problems.append(f"{p.id}: no licence stated")
        if set(p.golden) != _GOLDEN_KEYS:
            problems.append(f"{p.id}: golden values need exactly {sorted(_GOLDEN_KEYS)} "
                            f"(write them with tools/write_golden_values.py {p.id})")
        if p.default:
            if p.arch in defaults:
                problems.append(f"{p.arch}: two default presets ({defaults[p.arch]}, {p.id})")
            defaults[p.arch] = p.id
    return problems
