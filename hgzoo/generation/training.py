"""DDPM training data for ``fit``: clean scenes and their conditions -> (noisy inputs, noise) batches.

Train with :func:`hgzoo.training.fit_resumable` (kill and rerun resumes;
Keras' progress bar), e.g.::

    images, identities, layouts, backgrounds = hgzoo.generation.data.scene_set(faces, codes, (1.0, 0.5, 0.3))
    batches = NoisedScenes(images, identities, layouts, backgrounds, model.schedule, batch_size=32)
    fit_resumable(model, batches, "runs/idd", epochs=50)

Example:

>>> import numpy as np
>>> from hgzoo.generation import NoiseSchedule
>>> data = NoisedScenes(np.zeros((5, 8, 8, 3)), np.ones((5, 4)), np.full((5, 3), 0.5), np.zeros(5), NoiseSchedule(),
...                     batch_size=2)
>>> len(data), [a.shape for a in data[0][0]], data[2][1].shape
(3, [(2, 8, 8, 3), (2,), (2, 4), (2, 3), (2,)], (1, 8, 8, 3))
"""

import math

import keras
import numpy as np


class NoisedScenes(keras.utils.PyDataset):
    """Batches ``((x_t, t, identity, layout, background), ε)`` of DDPM's ε-MSE for :class:`IDDiffusion`.

    Images in [0, 1] are mapped to [-1, 1]. Each epoch shuffles the scenes;
    batch ``i`` of epoch ``e`` draws its timesteps and noise from a NumPy
    generator seeded by ``(seed, e, i)``, so every run sees the same pairs on
    every backend. ``epoch`` advances on each ``on_epoch_end`` Keras calls (on
    TensorFlow that can be more than once per epoch); a resumed run starts
    again from 0 unless it is set.

    Example:

    >>> import numpy as np
    >>> from hgzoo.generation import NoiseSchedule
    >>> data = NoisedScenes(np.zeros((4, 8, 8, 3)), np.ones((4, 2)), np.full((4, 3), 0.5), np.zeros(4),
    ...                     NoiseSchedule(), batch_size=4)
    >>> bool(np.array_equal(data[0][1], data[0][1]))
    True
    """

    def __init__(self, images, identities, layouts, backgrounds, schedule, batch_size=32, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.images = np.asarray(images, np.float32) * 2.0 - 1.0
        self.identities = np.asarray(identities, np.float32)
        self.layouts = np.asarray(layouts, np.float32)
        self.backgrounds = np.asarray(backgrounds, np.int32)
        if not len(self.images) == len(self.identities) == len(self.layouts) == len(self.backgrounds):
            raise ValueError("images, identities, layouts and backgrounds must have one row per scene")
        self.schedule, self.batch_size, self.seed, self.epoch = schedule, int(batch_size), int(seed), 0

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))
        rows = order[index * self.batch_size:(index + 1) * self.batch_size]
        noisy, t, noise = self.schedule.noised(self.images[rows], np.random.default_rng([self.seed, self.epoch,
                                                                                         index]))
        return (noisy, t, self.identities[rows], self.layouts[rows], self.backgrounds[rows]), noise

    def on_epoch_end(self):
        self.epoch += 1
