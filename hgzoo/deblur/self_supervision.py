"""Self-supervised consistency losses for any hgzoo deblurring model (Zhang et al., IJCV 2022, step IV).

The journal version of DMPHN exposes the network to random rotations and
scale changes and makes it robust to Gaussian noise; it publishes no code
(``papers.md`` §2), so this is hgzoo's design, documented here:

- **Equivariance**: for transforms T = rotation by 90°·k (k drawn each step
  from {0, 1, 2, 3}, only 0 and 2 for non-square crops) composed with a
  rescaling by each s in ``scales`` (antialiased bilinear, sizes rounded to
  the model's multiple), the model's output on T(x) should be T of its
  output on x: the mean over scales of ``‖f(T x) − sg[T f(x)]‖²``. Each
  scale costs one more forward and backward pass at that size.
- **Noise invariance**: ``‖f(x + n) − sg[f(x)]‖²`` with n ~ N(0, σ²) on the
  image (event voxels are left as they are).

``sg`` stops gradients: the supervised clean prediction is the target the
transformed and noisy views are pulled towards, so the auxiliary terms
never drag the clean prediction away from the ground truth. Neither term
needs a label. Both are added to the supervised loss with their weights.
All spatial inputs of the model (the image, EventMPN's event voxels) get
the same transform. Training crops must have a fixed size.

Example:

>>> import numpy as np, hgzoo
>>> model = hgzoo.deblur.DMPHN(levels=(1, 2))
>>> model.compile(self_supervision=SelfSupervision(noise_std=0.03))
>>> history = model.fit(np.random.rand(2, 32, 32, 3), np.random.rand(2, 32, 32, 3), epochs=1, verbose=0)
"""

import keras
from keras import ops


class SelfSupervision:
    """Rotation/rescaling equivariance and noise invariance losses; pass to ``compile(self_supervision=...)``.

    Args:
        equivariance_weight: weight of the rotation/rescaling term (0 turns it off).
        noise_weight: weight of the noise term (0 turns it off).
        noise_std: σ of the Gaussian noise, in [0, 1] pixel units.
        rotations: draw 90° rotations (else only rescaling).
        scales: rescaling factors, each used every step; 1.0 keeps the size
            (rotation only). ``(0.5,)`` is the cheapest.
        seed: seed of the transform and noise draws.

    Example:

    >>> SelfSupervision(scales=(0.5, 1.0)).get_config()["scales"]
    [0.5, 1.0]
    """

    def __init__(self, equivariance_weight=0.1, noise_weight=0.1, noise_std=0.02, rotations=True,
                 scales=(0.5, 1.0), seed=None):
        if equivariance_weight < 0 or noise_weight < 0 or noise_std < 0:
            raise ValueError("self-supervision weights and noise_std must be non-negative")
        if not scales or any(not 0 < float(s) <= 1 for s in scales):
            raise ValueError(f"scales must be factors in (0, 1], got {scales}")
        self.equivariance_weight = float(equivariance_weight)
        self.noise_weight = float(noise_weight)
        self.noise_std = float(noise_std)
        self.rotations = bool(rotations)
        self.scales = [float(s) for s in scales]
        self.seed = seed

    @classmethod
    def get(cls, value):
        """None/False -> None, True -> defaults, a dict -> from_config, an instance as is."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, dict):
            return cls(**value)
        if isinstance(value, cls):
            return value
        raise TypeError(f"self_supervision must be None, True, a dict or a SelfSupervision, got {value!r}")

    def get_config(self):
        return {"equivariance_weight": self.equivariance_weight, "noise_weight": self.noise_weight,
                "noise_std": self.noise_std, "rotations": self.rotations, "scales": list(self.scales),
                "seed": self.seed}

    def attach(self, model):
        """Give ``model`` the seed state of the draws (created once; kept through recompiles)."""
        if getattr(model, "_self_supervision_seed", None) is None:
            model._self_supervision_seed = keras.random.SeedGenerator(self.seed, name="self_supervision_seed")

    def loss(self, model, x, y_pred):
        """The weighted auxiliary loss for a batch ``x`` whose clean prediction is ``y_pred``."""
        names = [t.name for t in model.inputs]
        inputs = dict(x) if isinstance(x, dict) else dict(zip(names, x)) if isinstance(x, (list, tuple)) else {
            "image": x}
        inputs = {name: ops.convert_to_tensor(value) for name, value in inputs.items()}
        target = ops.stop_gradient(ops.cast(y_pred, "float32"))
        seed = model._self_supervision_seed
        turns = self._turns(inputs["image"])
        total = 0.0
        if self.noise_weight > 0:
            image = inputs["image"]
            noisy = {**inputs, "image": image + self.noise_std * keras.random.normal(ops.shape(image), seed=seed)}
            total = total + self.noise_weight * ops.mean(ops.square(_final(model(_pack(noisy, x, names), training=True))
                                                                   - target))
        if self.equivariance_weight > 0:
            k = keras.random.randint((), 0, len(turns), seed=seed)
            # Every scale each step: a model call inside a switch branch would trap the model's own
            # random state (dropout seeds) in the branch on JAX. The rotation is a switch over tensors.
            losses = [self._branch(model, x, target, turns, k, s, names)(inputs) for s in self.scales]
            total = total + self.equivariance_weight * sum(losses) / len(losses)
        return total

    def _turns(self, image):
        height, width = image.shape[1], image.shape[2]
        if height is None or width is None:
            raise ValueError("self-supervision needs training crops of a fixed size (known height and width)")
        if not self.rotations:
            return (0,)
        return (0, 1, 2, 3) if height == width else (0, 2)

    def _branch(self, model, x, target, turns, k, scale, names):
        multiple = getattr(model, "multiple_of", (1, 1))

        def transform(t):
            if scale != 1.0:
                height, width = t.shape[1], t.shape[2]
                size = (max(multiple[0], round(height * scale / multiple[0]) * multiple[0]),
                        max(multiple[1], round(width * scale / multiple[1]) * multiple[1]))
                t = ops.image.resize(t, size, interpolation="bilinear", antialias=True)
            if len(turns) == 1:
                return t
            rotations = [lambda v, n=n: ops.rot90(v, k=n, axes=(1, 2)) if n else v for n in turns]
            return ops.switch(k, rotations, t)

        def branch(inputs):
            transformed = {name: transform(ops.cast(v, "float32")) for name, v in inputs.items()}
            output = _final(model(_pack(transformed, x, names), training=True))
            return ops.mean(ops.square(ops.cast(output, "float32") - transform(target)))

        return branch


def _pack(inputs, like, names):
    """``inputs`` (a dict by input name) in the structure of ``like``: dict, list in input order, or one tensor."""
    if isinstance(like, dict):
        return inputs
    if isinstance(like, (list, tuple)):
        return [inputs[name] for name in names]
    return inputs["image"]


def _final(output):
    return output[-1] if isinstance(output, (list, tuple)) else output
