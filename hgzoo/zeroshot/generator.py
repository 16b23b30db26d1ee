"""A conditional WGAN-GP feature generator (as in feature-generating networks, Xian et al. 2018).

The generator G(z, a) maps noise z and a class embedding a to an image
feature; the critic D(x, a) scores (feature, embedding) pairs. They are
trained as a Wasserstein GAN with gradient penalty (Gulrajani et al.):
critic loss E[D(G(z,a),a)] − E[D(x,a)] + λ·E[(‖∇_x̂ D(x̂,a)‖ − 1)²] on
x̂ = εx + (1−ε)G(z,a), then generator loss −E[D(G(z,a),a)]; 5 critic steps
per generator step, Adam(1e-4, β1 0.5, β2 0.999), λ 10 as in that paper.

Choices, written down since the GZSL model-selection paper has no code:
one hidden layer (LeakyReLU 0.2) in both networks as in f-CLSWGAN; the
generator ends in ReLU by default (ResNet / CNN features after a ReLU are
non-negative; ``output_activation="linear"`` otherwise); f-CLSWGAN's extra
classification loss on generated features is left out. The penalty's input
gradient is computed in closed form for the one-hidden-layer critic
(∇_x D = W₁ₓᵀ(σ'(h) ⊙ w₂)), so the whole loss is plain ``keras.ops``, its
parameter gradients come from Keras' own ``train_on_batch``, and it trains
on TensorFlow and JAX alike.

Example:

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> gen = train_feature_generator(rng.random((20, 6)), np.repeat(np.arange(4), 5), rng.random((4, 3)),
...                               iterations=2, hidden=8, seed=0)
>>> gen.generate(rng.random((4, 3)), per_class=2, seed=0).shape
(8, 6)
"""

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.models.base import ZooModel
from hgzoo.registry import register_model


@register_model(task="zeroshot", name="feature_generator")
class FeatureGenerator(ZooModel):
    """G(z, a): inputs ``noise`` (B, Z) and ``attributes`` (B, A), output ``features`` (B, D).

    Dense(hidden) → LeakyReLU(0.2) → Dense(D) → ReLU (or linear). Train it with
    :func:`train_feature_generator`; :meth:`generate` draws features of given classes.

    Args:
        feature_dim: D. attribute_dim: A. noise_dim: Z (default A, as f-CLSWGAN).
        hidden: hidden width (4096 in f-CLSWGAN for 2048-d ResNet features).
        output_activation: ``"relu"`` or ``"linear"``.

    Example:

    >>> import numpy as np
    >>> gen = FeatureGenerator(feature_dim=6, attribute_dim=3, hidden=8)
    >>> tuple(gen.predict_on_batch([np.random.rand(2, 3), np.random.rand(2, 3)]).shape)
    (2, 6)
    """

    def __init__(self, feature_dim, attribute_dim, noise_dim=None, hidden=4096, output_activation="relu",
                 name="feature_generator", dtype=None, **kwargs):
        if output_activation not in ("relu", "linear"):
            raise ValueError(f"output_activation must be 'relu' or 'linear', got {output_activation!r}")
        noise_dim = int(noise_dim or attribute_dim)
        noise = keras.Input((noise_dim,), name="noise")
        attributes = keras.Input((int(attribute_dim),), name="attributes")
        init = keras.initializers.RandomNormal(0.0, 0.02)
        x = keras.layers.Concatenate(name="condition", dtype=dtype)([noise, attributes])
        x = keras.layers.Dense(int(hidden), kernel_initializer=init, name="hidden", dtype=dtype)(x)
        x = keras.layers.LeakyReLU(0.2, name="hidden_lrelu", dtype=dtype)(x)
        x = keras.layers.Dense(int(feature_dim), kernel_initializer=init, name="output", dtype=dtype)(x)
        x = keras.layers.Activation(output_activation, name="features", dtype="float32")(x)
        super().__init__(inputs=[noise, attributes], outputs=x, name=name, dtype=dtype, **kwargs)
        self._args = {"feature_dim": int(feature_dim), "attribute_dim": int(attribute_dim), "noise_dim": noise_dim,
                      "hidden": int(hidden), "output_activation": output_activation}
        self.compile(optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5), loss="mse")

    def get_config(self):
        return {**super().get_config(), **self._args}

    def generate(self, class_embeddings, per_class, seed=None):
        """(C·per_class, D) features, ``per_class`` rows per row of ``class_embeddings`` (C, A), class-major."""
        a = np.repeat(np.asarray(class_embeddings, np.float32), int(per_class), axis=0)
        z = np.random.default_rng(seed).standard_normal((len(a), self._args["noise_dim"])).astype(np.float32)
        return np.asarray(self.predict([z, a], batch_size=1024, verbose=0))


@hgzoo_export
class WassersteinCritic(keras.layers.Layer):
    """D(x, a) = w₂ᵀ LeakyReLU(W₁ₓx + W₁ₐa + b₁) + b₂, with its input gradient ∇ₓD in closed form.

    Inputs ``features`` (B, D) and ``attributes`` (B, A), output (B, 1) scores.

    Example:

    >>> import numpy as np
    >>> critic = WassersteinCritic(hidden=8)
    >>> tuple(critic(np.random.rand(2, 6), np.random.rand(2, 3)).shape)
    (2, 1)
    """

    def __init__(self, hidden=4096, slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.slope = int(hidden), float(slope)

    def build(self, features_shape, attributes_shape):
        d, a = features_shape[-1], attributes_shape[-1]
        init = keras.initializers.RandomNormal(0.0, 0.02)
        self.w_x = self.add_weight((d, self.hidden), init, name="w_features")
        self.w_a = self.add_weight((a, self.hidden), init, name="w_attributes")
        self.b1 = self.add_weight((self.hidden,), "zeros", name="b_hidden")
        self.w2 = self.add_weight((self.hidden, 1), init, name="w_output")
        self.b2 = self.add_weight((1,), "zeros", name="b_output")

    def _hidden(self, x, a):
        return ops.matmul(x, self.w_x) + ops.matmul(a, self.w_a) + self.b1

    def call(self, features, attributes):
        h = self._hidden(features, attributes)
        return ops.matmul(ops.where(h > 0, h, self.slope * h), self.w2) + self.b2

    def input_gradient(self, x, a):
        """(B, D) ∇ₓD(x, a), exact for this network (LeakyReLU's derivative is 1 or ``slope``)."""
        slope = ops.where(self._hidden(x, a) > 0, 1.0, self.slope)
        return ops.matmul(slope * ops.transpose(self.w2), ops.transpose(self.w_x))

    def compute_output_shape(self, features_shape, attributes_shape):
        return (features_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "slope": self.slope}


class _CriticStep(keras.Model):
    """Inputs [real, fake, attributes, ε]; output the per-sample WGAN-GP critic loss."""

    def __init__(self, critic, gp_weight, **kwargs):
        super().__init__(**kwargs)
        self.critic, self.gp_weight = critic, float(gp_weight)

    def call(self, inputs):
        real, fake, a, eps = inputs
        mixed = eps * real + (1.0 - eps) * fake
        norm = ops.sqrt(ops.sum(ops.square(self.critic.input_gradient(mixed, a)), axis=-1) + 1e-12)
        return (self.critic(fake, a)[:, 0] - self.critic(real, a)[:, 0]
                + self.gp_weight * ops.square(norm - 1.0))


class _GeneratorStep(keras.Model):
    """Inputs [noise, attributes]; output −D(G(z, a), a) with a frozen copy of the critic."""

    def __init__(self, generator, frozen_critic, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.frozen_critic = generator, frozen_critic

    def call(self, inputs):
        z, a = inputs
        return -self.frozen_critic(self.generator([z, a]), a)[:, 0]


def _mean_of_output(y_true, y_pred):
    return y_pred


def train_feature_generator(features, labels, class_embeddings, iterations=2000, batch_size=64, critic_steps=5,
                            gp_weight=10.0, learning_rate=1e-4, hidden=4096, noise_dim=None,
                            output_activation="relu", seed=None, verbose=False):
    """Train a :class:`FeatureGenerator` on real ``features`` (N, D) of ``labels`` (N,) (rows of
    ``class_embeddings`` (C, A)); returns it (the critic is discarded).

    ``iterations`` generator steps, each after ``critic_steps`` critic steps on fresh batches.
    """
    x = np.asarray(features, np.float32)
    y = np.asarray(labels).reshape(-1)
    att = np.asarray(class_embeddings, np.float32)
    if len(x) != len(y) or not np.isfinite(x).all():
        raise ValueError(f"features must be finite and one row per label, got {x.shape} and {y.shape}")
    if y.min() < 0 or y.max() >= len(att):
        raise ValueError(f"labels must index the {len(att)} rows of class_embeddings, got {y.min()}..{y.max()}")
    rng = np.random.default_rng(seed)
    generator = FeatureGenerator(x.shape[1], att.shape[1], noise_dim, hidden, output_activation)
    critic, frozen = WassersteinCritic(hidden, name="critic"), WassersteinCritic(hidden, name="frozen_critic")
    for c in (critic, frozen):
        c.build((None, x.shape[1]), (None, att.shape[1]))
    frozen.trainable = False
    critic_step = _CriticStep(critic, gp_weight, name="critic_step")
    generator_step = _GeneratorStep(generator, frozen, name="generator_step")
    for model in (critic_step, generator_step):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.999),
                      loss=_mean_of_output)
    z_dim = generator.get_config()["noise_dim"]
    zeros = np.zeros(batch_size, np.float32)
    for it in range(int(iterations)):
        for _ in range(int(critic_steps)):
            i = rng.integers(0, len(x), batch_size)
            z = rng.standard_normal((batch_size, z_dim)).astype(np.float32)
            fake = np.asarray(generator.predict_on_batch([z, att[y[i]]]))
            eps = rng.random((batch_size, 1)).astype(np.float32)
            critic_loss = critic_step.train_on_batch([x[i], fake, att[y[i]], eps], zeros)
        frozen.set_weights(critic.get_weights())
        i = rng.integers(0, len(x), batch_size)
        z = rng.standard_normal((batch_size, z_dim)).astype(np.float32)
        generator_loss = generator_step.train_on_batch([z, att[y[i]]], zeros)
        if verbose and (it + 1) % max(1, int(iterations) // 10) == 0:
            print(f"generator step {it + 1}/{iterations}: critic loss {float(critic_loss):.4f}, "
                  f"generator loss {float(generator_loss):.4f}")
    return generator
