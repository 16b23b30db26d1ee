"""``distill``: dataset distillation by distribution matching (DM) with IID's constraints (``papers.md`` §13).

Each iteration draws a fresh random ConvNet, takes ``real_batch`` real
images of every class, augments real and synthetic images of a class with
the same DSA parameters, and sums over classes DM's mean matching, IID's
covariance matching (on the local maps) and IID's class centralisation (the
synthetic images in a frozen embedding network from a small trained pool).
The synthetic images, initialised from real ones, are trainable variables
updated by SGD(lr 1.0, momentum 0.5).

What hgzoo chose where the official code cannot run on a CPU:

- the embedding pool: the official code picks one of 1,000 ResNet-18s
  trained 40 epochs each; here ``pool_size`` ConvNets (default 3, the
  matching network's width) are trained ``pool_epochs`` epochs with the
  official pool recipe (SGD 0.01, momentum 0.9, weight decay 5e-4,
  batch 256, no augmentation) on the real images given, or pass ``pool``;
- DSA: one seed per class per iteration, as the official code; the
  transformation of ``mode="single"`` is drawn once per iteration for all
  classes (one traced graph per transformation);
- ``variant="idm"`` adds IDM's cross-entropy of the synthetic images, scored
  by the pool network, with IID's IDM weights; IDM's partitioning and model
  queue are not implemented.

Example:

>>> import numpy as np
>>> from hgzoo.distill import distill
>>> x = np.random.default_rng(0).integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)
>>> y = np.repeat(np.arange(2), 20)
>>> result = distill(x, y, images_per_class=2, iterations=2, real_batch=8, width=4, pool_size=1,
...                  pool_epochs=1, progress=False)
>>> result.images.shape, result.labels.tolist(), result.iteration
((4, 16, 16, 3), [0, 0, 1, 1], 2)
"""

import json
import os

import keras
import numpy as np
from keras import ops

from hgzoo.distill.augment import SiameseAugmentation, apply
from hgzoo.distill.autodiff import value_and_grad
from hgzoo.distill.base import CIFAR10_MEAN, CIFAR10_STD, reinitialize
from hgzoo.distill.convnet import ConvNet
from hgzoo.distill.losses import IIDObjective
from hgzoo.distill.synthetic_set import DistilledSet, read_npz, write_npz
from hgzoo.errors import ResumeError

METHODS = ("dm", "iid")


def standardise(images, mean, std):
    """uint8 pixels or floats in [0, 1] -> ``(x − mean) / std`` float32, checked."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, C) with C 1 or 3, all of one size, got shape {images.shape}")
    if images.dtype == np.uint8:
        x = images.astype("float32") / 255.0
    elif np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError("float images must be finite and in [0, 1] (divide 0-255 pixels by 255)")
        x = images.astype("float32")
    else:
        raise ValueError(f"images must be uint8 pixels or floats in [0, 1], got dtype {images.dtype}")
    return (x - np.asarray(mean, "float32")) / np.asarray(std, "float32")


def check_dataset(images, labels, images_per_class, real_batch):
    """Refuse what distillation cannot use, naming the argument and the fix; returns (labels, classes)."""
    if isinstance(images, (list, tuple)) and len({np.shape(i) for i in images}) > 1:
        raise ValueError(f"images have mixed sizes {sorted({np.shape(i) for i in images})[:3]}; resize them to one "
                         f"size first")
    if not isinstance(images_per_class, (int, np.integer)) or images_per_class <= 0:
        raise ValueError(f"images_per_class must be a positive integer, got {images_per_class!r}")
    if int(real_batch) <= 0:
        raise ValueError(f"real_batch must be a positive integer, got {real_batch!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be one integer per image: {len(images)} images, labels of shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError("labels must be integers 0..K-1")
    counts = np.bincount(labels)
    need = max(int(real_batch), int(images_per_class))
    if (counts < need).any():
        k = int(np.argmin(counts))
        raise ValueError(f"class {k} has {counts[k]} real images, fewer than real_batch={real_batch} / "
                         f"images_per_class={images_per_class}; lower real_batch or give more images of every class")
    return labels.astype("int32"), len(counts)


def train_embedding_pool(images, labels, num_classes, size=3, epochs=2, width=128, depth=3, seed=0,
                         batch_size=256, verbose=0):
    """``size`` ConvNets trained ``epochs`` epochs on standardised ``images``: IID's centralisation networks.

    The official pool recipe (``pre_model.py``): SGD 0.01, momentum 0.9,
    weight decay 5e-4, batch 256, no augmentation.
    """
    pool = []
    for k in range(int(size)):
        keras.utils.set_random_seed(int(seed) * 1000 + k)
        net = ConvNet(num_classes, width, depth, images.shape[1:3], images.shape[-1], name=f"pool{k}")
        net.fit(images, labels, batch_size=batch_size, epochs=int(epochs), shuffle=True, verbose=verbose)
        net.trainable = False
        pool.append(net)
    return pool


class _Loop:
    """One distillation run's state: the synthetic variable, its optimiser, the networks, the step."""

    def __init__(self, x, labels, num_classes, ipc, method, variant, real_batch, width, depth, pool, lr, momentum,
                 dsa, seed, covariance, centralisation):
        self.x, self.labels, self.k, self.ipc, self.seed = x, labels, num_classes, ipc, int(seed)
        self.real_batch, self.dsa, self.pool = int(real_batch), dsa, pool
        self.by_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
        zero = method == "dm"
        self.objective = IIDObjective(variant, covariance=0.0 if zero else covariance,
                                      centralisation=0.0 if zero else centralisation,
                                      cross_entropy=0.0 if zero else None, num_classes=num_classes)
        self.net = ConvNet(num_classes, width, depth, x.shape[1:3], x.shape[-1], name="matching")
        self.syn_labels = np.repeat(np.arange(num_classes), ipc).astype("int32")
        self.optimizer = keras.optimizers.SGD(lr, momentum=momentum)
        # One embedding network whose weights are set from the pool member drawn each iteration: the traced
        # step sees the same variables every time (a pool member per trace would retrace for every one).
        self.embedder = None
        if pool:
            first = pool[0]
            if any(type(n) is not type(first) or n.get_config() != {**first.get_config(), "name": n.name}
                   for n in pool):
                raise ValueError("the embedding pool's networks must share one architecture and config")
            self.embedder = type(first).from_config({**first.get_config(), "name": "embedding"})
            self.embedder.trainable = False
        self.step = value_and_grad(self._loss)

    def init_real(self):
        rng = np.random.default_rng([self.seed, 7])
        picks = np.concatenate([rng.choice(i, self.ipc, replace=False) for i in self.by_class])
        return self.x[picks]

    def _loss(self, syn, real, real_params, syn_params, embedder):
        if real_params is not None:
            real, syn = apply(real, real_params), apply(syn, syn_params)
        real_feature, real_local = self.net.embed(real)
        syn_feature, syn_local = self.net.embed(syn)
        real_feature = ops.reshape(real_feature, (self.k, self.real_batch, -1))
        syn_feature = ops.reshape(syn_feature, (self.k, self.ipc, -1))
        real_local = ops.reshape(real_local, (self.k, self.real_batch, *real_local.shape[1:]))
        syn_local = ops.reshape(syn_local, (self.k, self.ipc, *syn_local.shape[1:]))
        total = 0.0
        for c in range(self.k):
            total = total + self.objective(real_feature[c], real_local[c], syn_feature[c], syn_local[c])
        w = self.objective.weights
        if embedder is not None and (w["centralisation"] or w["cross_entropy"]):
            embedding, _ = embedder.embed(syn)
            if w["centralisation"]:
                total = total + self.objective.centralisation(self.syn_labels, embedding)
            if w["cross_entropy"]:
                total = total + w["cross_entropy"] * self.objective.cross_entropy(self.syn_labels, embedder(syn))
        return total

    def iterate(self, variable, iteration):
        rng = np.random.default_rng([self.seed, int(iteration)])
        reinitialize(self.net, rng)
        real = self.x[np.concatenate([rng.choice(i, self.real_batch, replace=False) for i in self.by_class])]
        real_params = syn_params = None
        if self.dsa is not None:
            seeds = rng.integers(0, 2 ** 31, self.k + 1)
            choice = self.dsa.chosen(seeds[-1])
            size = real.shape[1:3]
            draws = [self.dsa.draw(s, self.real_batch, size, choice) for s in seeds[:-1]]
            real_params = {n: np.concatenate([d[n] for d in draws]) for n in choice}
            syn_params = {n: np.concatenate([d[n][:self.ipc] for d in draws]) for n in choice}
        if self.embedder is not None:
            self.embedder.set_weights(self.pool[rng.integers(len(self.pool))].get_weights())
        loss, grad = self.step(variable.value, real, real_params, syn_params, self.embedder)
        self.optimizer.apply_gradients([(grad, variable)])
        return float(ops.convert_to_numpy(loss))


def distill(images, labels, images_per_class=10, method="iid", iterations=1000, real_batch=256, width=128, depth=3,
            variant="dm", pool=None, pool_size=3, pool_epochs=2, lr=1.0, momentum=0.5, dsa=True, covariance=None,
            centralisation=None, mean=CIFAR10_MEAN, std=CIFAR10_STD, class_names=None, checkpoint=None,
            checkpoint_every=100, on_checkpoint=None, seed=0, progress=True):
    """Distil ``images``/``labels`` into ``images_per_class`` synthetic images per class.

    Args:
        images: (N, H, W, C) uint8 pixels or floats in [0, 1], one size.
        labels: (N,) integers 0..K-1; every class needs at least
            ``real_batch`` images.
        images_per_class: IPC (1, 10, 50 in the papers).
        method: ``"dm"`` (distribution matching only) or ``"iid"`` (DM plus
            covariance matching and class centralisation).
        iterations: distillation iterations (20,000 in the official runs).
        real_batch: real images per class per iteration (256).
        width, depth: the random matching ConvNet (128, 3).
        variant: ``"dm"`` or ``"idm"``: which official IID weights
            (:data:`hgzoo.distill.losses.WEIGHTS`).
        pool: trained embedding networks (with ``embed``) for the
            centralisation; None trains ``pool_size`` ConvNets for
            ``pool_epochs`` epochs here (IID only).
        lr, momentum: the synthetic images' SGD (1.0, 0.5).
        dsa: apply differentiable Siamese augmentation (a
            :class:`SiameseAugmentation`, or True for the official one).
        covariance, centralisation: override IID's weights.
        mean, std: the dataset's per-channel standardisation (CIFAR-10's).
        class_names: names for the saved PNG grids.
        checkpoint: an ``.npz`` path: written atomically every
            ``checkpoint_every`` iterations and at the end; when it exists,
            the run resumes from it (a different setting or a broken file is
            refused with :class:`~hgzoo.errors.ResumeError`).
        on_checkpoint: ``callback(DistilledSet)`` at every checkpoint (for
            accuracy-vs-iteration curves).
        seed: everything random derives from it and the iteration.
        progress: show a progress bar.

    Returns:
        A :class:`DistilledSet`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    labels, num_classes = check_dataset(images, labels, images_per_class, real_batch)
    x = standardise(images, mean, std)
    if int(iterations) < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    augmentation = SiameseAugmentation() if dsa is True else (dsa or None)
    setting = {"images_per_class": int(images_per_class), "method": method, "variant": variant,
               "image_shape": list(x.shape[1:]), "num_classes": int(num_classes), "seed": int(seed)}
    state = _read_checkpoint(checkpoint, setting) if checkpoint and os.path.exists(checkpoint) else None
    if pool is None and method == "iid":
        pool = _restore_pool(state, x, num_classes, width, depth) if state else \
            train_embedding_pool(x, labels, num_classes, pool_size, pool_epochs, width, depth, seed)
    loop = _Loop(x, labels, num_classes, int(images_per_class), method, variant, real_batch, width, depth,
                 pool if method == "iid" else None, lr, momentum, augmentation, seed, covariance, centralisation)
    variable = keras.Variable(state["images"] if state else loop.init_real(), name="synthetic_images")
    loop.optimizer.build([variable])
    start, history = 0, []
    if state:
        for v, value in zip(loop.optimizer.variables, state["optimizer"]):
            v.assign(value)
        start, history = state["iteration"], state["history"]

    def snapshot(iteration):
        return DistilledSet(ops.convert_to_numpy(variable.value), loop.syn_labels, tuple(mean), tuple(std),
                            list(class_names or []), iteration, list(history))

    def save(iteration):
        result = snapshot(iteration)
        if checkpoint:
            _write_checkpoint(checkpoint, result, setting, loop.optimizer, loop.pool)
        if on_checkpoint is not None:
            on_checkpoint(result)

    bar = keras.utils.Progbar(int(iterations), stateful_metrics=["loss"]) if progress else None
    for iteration in range(start, int(iterations)):
        loss = loop.iterate(variable, iteration)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the distillation loss became {loss} at iteration {iteration}; lower lr")
        history.append({"iteration": iteration + 1, "loss": loss})
        if bar is not None:
            bar.update(iteration + 1, [("loss", loss)])
        if checkpoint_every and (iteration + 1) % int(checkpoint_every) == 0 and iteration + 1 < int(iterations):
            save(iteration + 1)
    save(max(int(iterations), start))
    return snapshot(max(int(iterations), start))


def _write_checkpoint(path, result, setting, optimizer, pool):
    arrays = result.arrays()
    arrays["setting"] = np.array(json.dumps(setting))
    for i, v in enumerate(optimizer.variables):
        arrays[f"optimizer_{i}"] = ops.convert_to_numpy(v.value)
    for k, net in enumerate(pool or []):
        arrays[f"pool{k}_config"] = np.array(json.dumps({"width": net.get_config()["width"],
                                                         "depth": net.get_config()["depth"]}))
        for i, w in enumerate(net.get_weights()):
            arrays[f"pool{k}_{i}"] = w
    write_npz(path, arrays)


def _read_checkpoint(path, setting):
    arrays = read_npz(path, ("images", "labels", "meta", "setting"))
    saved = json.loads(str(arrays["setting"]))
    if saved != setting:
        changed = {k: (saved.get(k), v) for k, v in setting.items() if saved.get(k) != v}
        raise ResumeError(f"{path}: a checkpoint of another setting (saved vs now: {changed}); use another "
                          f"checkpoint path or the same arguments")
    meta = json.loads(str(arrays["meta"]))
    count = len([k for k in arrays if k.startswith("optimizer_")])
    return {"images": arrays["images"], "iteration": int(meta["iteration"]), "history": meta["history"],
            "optimizer": [arrays[f"optimizer_{i}"] for i in range(count)],
            "pool": [(json.loads(str(arrays[f"pool{k}_config"])),
                      [arrays[f"pool{k}_{i}"] for i in range(len([n for n in arrays if n.startswith(f"pool{k}_")]) - 1)])
                     for k in range(len([n for n in arrays if n.endswith("_config")]))]}


def _restore_pool(state, x, num_classes, width, depth):
    pool = []
    for k, (config, weights) in enumerate(state["pool"]):
        net = ConvNet(num_classes, config["width"], config["depth"], x.shape[1:3], x.shape[-1], name=f"pool{k}")
        net.set_weights(weights)
        net.trainable = False
        pool.append(net)
    return pool
