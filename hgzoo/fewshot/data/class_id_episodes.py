"""Label-free episodes for absolute-relative learning's unsupervised variant.

:class:`PseudoClassSampler` makes episodes in which each class is one image,
its shots and queries random augmentations of it; ``class_ids`` are the
images' indices in the pool. (Labelled episodes with ``class_ids``:
``EpisodeSampler(..., class_ids=True)``.)

Example:

>>> import numpy as np
>>> from hgzoo.fewshot import ImageClasses
>>> pool = ImageClasses.from_arrays(np.zeros((12, 8, 8, 1), np.uint8), np.repeat(np.arange(4), 3))
>>> inputs, target = PseudoClassSampler(pool, n_way=3, k_shot=1, queries=2).episode(0)
>>> inputs["class_ids"].shape, target.shape
((3,), (6, 3))
"""

import numpy as np

from hgzoo.fewshot.episodes import EpisodeSampler


def augment(image, rng, shift=2):
    """A random view of one (H, W, C) uint8 image: a shift of up to ``shift`` pixels, a 90° turn, a flip."""
    h, w = image.shape[:2]
    padded = np.pad(image, ((shift, shift), (shift, shift), (0, 0)), mode="edge")
    dy, dx = rng.integers(0, 2 * shift + 1, 2)
    view = padded[dy : dy + h, dx : dx + w]
    view = np.rot90(view, rng.integers(4)) if h == w else view
    return np.ascontiguousarray(view[:, ::-1] if rng.integers(2) else view)


class PseudoClassSampler(EpisodeSampler):
    """Unsupervised episodes: N random images of the pool (labels unused), each a pseudo-class whose
    K shots and Q queries are augmentations of it; ``class_ids`` index the pool's images (flattened
    class by class), so ``num_classes`` for ARL's label head is ``len(pool)``."""

    def __init__(self, classes, n_way=5, k_shot=1, queries=15, seed=0, shift=2):
        # Not EpisodeSampler.__init__: its checks are about labelled classes, which this sampler ignores.
        self._images = np.concatenate(classes.images)
        if not 2 <= n_way <= len(self._images) or k_shot < 1 or queries < 1:
            raise ValueError(
                f"need 2 <= n_way <= {len(self._images)} images, k_shot >= 1 and queries >= 1; got "
                f"n_way={n_way}, k_shot={k_shot}, queries={queries}"
            )
        self.classes = classes
        self.n_way, self.k_shot, self.queries = int(n_way), int(k_shot), int(queries)
        self.seed, self.shift = int(seed), int(shift)
        self.class_ids = True

    def episode(self, index):
        rng = np.random.default_rng([self.seed, int(index)])
        chosen = rng.choice(len(self._images), self.n_way, replace=False)
        views = np.stack(
            [
                [augment(self._images[i], rng, self.shift) for _ in range(self.k_shot + self.queries)]
                for i in chosen
            ]
        )  # (N, K + Q, H, W, C)
        support = views[:, : self.k_shot].reshape((-1,) + views.shape[2:])
        queries = np.swapaxes(views[:, self.k_shot :], 0, 1).reshape(
            (-1,) + views.shape[2:]
        )  # class-interleaved
        inputs = {
            "support_images": support.astype(np.float32) / 255.0,
            "support_labels": np.repeat(np.arange(self.n_way, dtype=np.int32), self.k_shot),
            "query_images": queries.astype(np.float32) / 255.0,
            "class_ids": chosen.astype(np.int32),
        }
        return inputs, np.eye(self.n_way, dtype=np.float32)[np.tile(np.arange(self.n_way), self.queries)]
