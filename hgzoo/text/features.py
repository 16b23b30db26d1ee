"""Frozen-backbone text embeddings from several depths, batched, with an on-disk cache.

The backbone runs through Hugging Face transformers' PyTorch classes (the
``text`` extra); nothing here is trained, so each text is embedded once and
the head trains on the cached arrays.
"""

import hashlib
import json
import os
import re
import warnings

import numpy as np

from hgzoo.config import home_dir, require
from hgzoo.files import replace_atomically
from hgzoo.text.backbones import DEFAULT_BACKBONE, fingerprint, resolve_backbone

POOLINGS = ("mean", "mean_unmasked", "first")


def _torch_and_transformers():
    return require("torch", "text"), require("transformers", "text")


def _usable_cpus():
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)


def _check_texts(texts):
    """``texts`` as a list of str; empty or blank ones are refused (they have no tokens to average)."""
    texts = [str(t) for t in texts]
    if not texts:
        raise ValueError("no texts to embed")
    blank = [i for i, t in enumerate(texts) if not t.strip()]
    if blank:
        raise ValueError(f"{len(blank)} of {len(texts)} texts are empty or blank (indices {blank[:10]}"
                         f"{' ...' if len(blank) > 10 else ''}): remove them before embedding")
    return texts


def layer_indices(spec, num_hidden_layers):
    """Hidden-state indices (negative, from the last) for a layer choice by name.

    ``"last<k>"`` is the last k layers, ``(-1, ..., -k)`` (LLMEmbed: ``"last5"``);
    ``"spread<k>"`` takes k layers evenly over the depth, ending at the last
    (30 layers, ``"spread5"``: layers 30, 24, 18, 12, 6), the ablation the
    paper argues against the last five.

    >>> layer_indices("spread5", 30)
    [-1, -7, -13, -19, -25]
    """
    match = re.fullmatch(r"(last|spread)(\d+)", str(spec))
    count = int(match.group(2)) if match else 0
    if not match or not 1 <= count <= num_hidden_layers:
        raise ValueError(f"a layer choice is 'last<k>' or 'spread<k>' with 1 <= k <= {num_hidden_layers} "
                         f"(the backbone's layers), got {spec!r}")
    if match.group(1) == "last":
        return [-1 - i for i in range(count)]
    depths = [round(num_hidden_layers * (count - i) / count) for i in range(count)]  # 1-based layer numbers
    return [d - num_hidden_layers - 1 for d in depths]


def _texts_digest(texts):
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


class FeatureExtractor:
    """Embeddings (N, L, D) of texts from L hidden layers of a frozen encoder or causal LM.

    Args:
        backbone: a packaged alias (default ``"all-MiniLM-L6-v2"``, offline),
            a folder written by ``save_pretrained``, or a Hugging Face id.
        layers: hidden-state indices; ``-1`` is the last layer, ``0`` the
            embedding output (LLMEmbed: the last five, ``(-1, ..., -5)``);
            or a choice by name, ``"last<k>"`` or ``"spread<k>"`` (see
            :func:`layer_indices`), resolved against the backbone's depth.
        pooling: ``"mean"`` over real tokens (attention mask), the default;
            ``"mean_unmasked"`` pads every text to ``max_length`` and averages
            all positions, padding included, as the LLMEmbed code does;
            ``"first"`` takes the first token (BERT's [CLS]).
        max_length: tokens per text; longer texts are truncated, and each
            extraction that truncates warns with the count (also kept in
            ``last_truncated``). ``last_tokens`` and ``last_positions``
            count the real tokens and the positions the backbone ran
            (padding included) in the last extraction that was not cached:
            the work that sets its cost.
        batch_size: texts per forward pass (sorted by length, so little
            padding is computed under ``"mean"``).
        cache_dir: where arrays are kept, keyed by backbone files, layers,
            pooling, max_length and the texts; ``None`` is
            ``$HGZOO_HOME/text_features``; ``False`` disables the cache.
        precision: ``"float32"``, ``"float16"`` or ``"bfloat16"`` weights
            (half precision for large LLMs on GPUs).
        device: a torch device string; ``None`` picks CUDA when present.
        threads: torch CPU threads while extracting (restored after). The
            default ``None`` is half the CPUs this process may use, at least
            one: torch's own default (all of them) oversubscribes a machine
            that also runs other work, and on a busy 2-core machine one
            thread ran SmolLM2 8× faster than two.

    The packaged ``"smollm2-135m"`` (a decoder-only LLM, the paper's LLaMA-2
    stand-in) pads on the right with its tokenizer's own pad token
    (``<|im_end|>``; the official code sets ``"[PAD]"``, which LLaMA-2's
    tokenizer maps to ``<unk>``), and attends with the attention mask as the
    official code does; ``"mean_unmasked"`` then averages every one of the
    ``max_length`` positions.

    Example:

    >>> extractor = FeatureExtractor(layers=(-1, -2))
    >>> extractor.extract(["a fine film", "dull"]).shape  # doctest: +SKIP
    (2, 2, 384)
    """

    def __init__(self, backbone=DEFAULT_BACKBONE, layers=(-1, -2, -3, -4, -5), pooling="mean", max_length=128,
                 batch_size=64, cache_dir=None, precision="float32", device=None, threads=None):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        by_name = isinstance(layers, str)
        if not by_name:
            layers = [int(i) for i in (layers if isinstance(layers, (list, tuple)) else [layers])]
            if not layers or len(set(layers)) != len(layers):
                raise ValueError(f"layers must be distinct hidden-state indices, got {layers}")
        if int(max_length) < 1 or int(batch_size) < 1:
            raise ValueError(f"max_length and batch_size must be positive, got {max_length} and {batch_size}")
        if precision not in ("float32", "float16", "bfloat16"):
            raise ValueError(f"precision must be float32, float16 or bfloat16, got {precision!r}")
        self.backbone = os.fspath(backbone)
        self.layers = layers
        self.pooling = pooling
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.precision = precision
        self.device = device
        if threads is not None and int(threads) < 1:
            raise ValueError(f"threads must be positive, got {threads}")
        self.threads = int(threads) if threads is not None else max(1, len(_usable_cpus()) // 2)
        self.last_truncated = self.last_tokens = self.last_positions = 0
        self.folder = resolve_backbone(self.backbone)
        config = json.loads((self.folder / "config.json").read_text())
        self.dim = int(config.get("hidden_size") or config.get("n_embd") or config["d_model"])  # D, the width
        if by_name:
            self.layers = layer_indices(layers, int(config.get("num_hidden_layers") or config["n_layer"]))
        self.cache_dir = None if cache_dir is False else (
            home_dir() / "text_features" if cache_dir is None else os.fspath(cache_dir))
        self._model = self._tokenizer = None

    def config(self):
        """What a saved head records to rebuild this extractor (see :class:`~hgzoo.text.LLMEmbed`)."""
        return {"backbone": self.backbone, "layers": list(self.layers), "pooling": self.pooling,
                "max_length": self.max_length, "precision": self.precision}

    def _load(self):
        if self._model is not None:
            return
        torch, transformers = _torch_and_transformers()
        # Files are local (resolve_backbone); this keeps transformers from contacting a hub for them.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        folder = str(self.folder)
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        if self._tokenizer.pad_token is None:  # causal LMs (LLaMA, GPT-2) ship without one
            self._tokenizer.pad_token = self._tokenizer.eos_token or self._tokenizer.unk_token
        self._tokenizer.padding_side = "right"
        model = transformers.AutoModel.from_pretrained(folder, dtype=getattr(torch, self.precision))
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(device).eval()
        self._device = device
        count = model.config.num_hidden_layers + 1
        bad = [i for i in self.layers if not -count <= i < count]
        if bad:
            raise ValueError(f"{self.backbone} has {count} hidden states (embeddings + {count - 1} layers): "
                             f"layers must lie in [{-count}, {count - 1}], got {bad}")

    def cache_path(self, texts):
        """The file this extractor's features of ``texts`` are cached in (None without a cache)."""
        if self.cache_dir is None:
            return None
        key = json.dumps({"backbone": fingerprint(self.folder), **self.config(), "texts": _texts_digest(texts)},
                         sort_keys=True)
        return os.path.join(self.cache_dir, hashlib.sha256(key.encode()).hexdigest()[:32] + ".npy")

    def extract(self, texts, progress=True):
        """Features of ``texts``: float32 (N, len(layers), D), from the cache when present."""
        texts = _check_texts(texts)
        path = self.cache_path(texts)
        if path and os.path.exists(path):
            try:
                cached = np.load(path, allow_pickle=False)
                if cached.shape == (len(texts), len(self.layers), self.dim):
                    return cached.astype("float32")
            except (OSError, ValueError):
                pass
            warnings.warn(f"feature cache {path} is unreadable or has the wrong shape; recomputing it")
        torch, _ = _torch_and_transformers()
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            features = self._run(texts, progress)
        finally:
            torch.set_num_threads(threads)
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            replace_atomically(path, lambda tmp: np.save(tmp, features), suffix=".npy")
        return features

    def _run(self, texts, progress):
        import keras

        torch, _ = _torch_and_transformers()
        self._load()
        unmasked = self.pooling == "mean_unmasked"
        full = [len(ids) for ids in self._tokenizer(texts, verbose=False)["input_ids"]]
        self.last_truncated = sum(n > self.max_length for n in full)
        if self.last_truncated:
            warnings.warn(f"{self.last_truncated} of {len(texts)} texts are longer than max_length="
                          f"{self.max_length} tokens (longest {max(full)}) and were truncated")
        lengths = [min(n, self.max_length) for n in full]
        self.last_tokens, self.last_positions = sum(lengths), 0
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(texts), len(self.layers), self.dim), "float32")
        bar = keras.utils.Progbar(len(texts), unit_name="text") if progress else None
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                index = order[start:start + self.batch_size]
                batch = self._tokenizer([texts[i] for i in index], truncation=True, max_length=self.max_length,
                                        padding="max_length" if unmasked else True, return_tensors="pt")
                self.last_positions += batch["input_ids"].numel()
                batch = {k: v.to(self._device) for k, v in batch.items()}
                hidden = self._model(**batch, output_hidden_states=True).hidden_states
                stacked = torch.stack([hidden[i] for i in self.layers], dim=1).float()  # (B, L, T, D)
                if self.pooling == "first":
                    pooled = stacked[:, :, 0]
                elif unmasked:
                    pooled = stacked.mean(dim=2)
                else:
                    mask = batch["attention_mask"].float()[:, None, :, None]
                    pooled = (stacked * mask).sum(dim=2) / mask.sum(dim=2).clamp(min=1.0)
                out[index] = pooled.cpu().numpy()
                if bar:
                    bar.add(len(index))
        return out
