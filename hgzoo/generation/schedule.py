"""The DDPM noise schedule, the forward (noising) process and the deterministic DDIM step.

Images live in [-1, 1]. ``NoiseSchedule.noised`` draws the training pairs
(noisy image, timestep, noise) on the host with a NumPy generator, so
``fit`` needs no custom ``train_step`` on any backend and a run is
reproducible from its seed.

Example:

>>> import numpy as np
>>> schedule = NoiseSchedule(timesteps=1000)
>>> round(float(schedule.alpha_bar[0]), 4), round(float(schedule.alpha_bar[-1]), 5)
(0.9999, 4e-05)
>>> schedule.sampling_timesteps(4).tolist()
[999, 749, 499, 249]
"""

import numpy as np


class NoiseSchedule:
    """DDPM's linear β schedule (1e-4 → 0.02 over ``timesteps``) and its ᾱ_t = ∏(1 − β).

    Args:
        timesteps: T, the number of diffusion steps (1000 as DDPM).
        beta_start, beta_end: the linear schedule's ends.

    Example:

    >>> import numpy as np
    >>> s = NoiseSchedule(10)
    >>> x0 = np.zeros((2, 4, 4, 3), "float32")
    >>> noisy, t, noise = s.noised(x0, np.random.default_rng(0))
    >>> noisy.shape, t.dtype.name, bool(np.allclose(s.predict_x0(noisy, t, noise), x0, atol=1e-5))
    ((2, 4, 4, 3), 'float32', True)
    """

    def __init__(self, timesteps=1000, beta_start=1e-4, beta_end=0.02):
        self.timesteps = int(timesteps)
        # the DDPM schedule is defined for T = 1000; scale the ends so shorter chains reach the same noise level
        scale = 1000.0 / self.timesteps
        self.betas = np.linspace(beta_start * scale, min(beta_end * scale, 0.999), self.timesteps, dtype=np.float64)
        self.alpha_bar = np.cumprod(1.0 - self.betas)

    def _coefficients(self, t, ndim):
        a = self.alpha_bar[np.asarray(t, np.int64)].reshape((-1,) + (1,) * (ndim - 1))
        return np.sqrt(a).astype(np.float32), np.sqrt(1.0 - a).astype(np.float32)

    def noised(self, x0, rng):
        """``(x_t, t, ε)`` for clean images ``x0``: t uniform over [0, T), ε standard normal."""
        x0 = np.asarray(x0, np.float32)
        t = rng.integers(0, self.timesteps, size=len(x0))
        noise = rng.standard_normal(x0.shape).astype(np.float32)
        signal, sigma = self._coefficients(t, x0.ndim)
        return signal * x0 + sigma * noise, t.astype(np.float32), noise

    def predict_x0(self, x_t, t, eps):
        """x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t."""
        signal, sigma = self._coefficients(np.broadcast_to(t, (len(x_t),)), np.ndim(x_t))
        return (np.asarray(x_t, np.float32) - sigma * np.asarray(eps, np.float32)) / signal

    def sampling_timesteps(self, steps):
        """``steps`` evenly spaced timesteps, from T − 1 down (DDIM's "leading" spacing)."""
        if not 1 <= int(steps) <= self.timesteps:
            raise ValueError(f"steps must be in [1, {self.timesteps}], got {steps}")
        stride = self.timesteps // int(steps)
        return (np.arange(int(steps))[::-1] * stride + (self.timesteps - 1 - (int(steps) - 1) * stride)).astype(
            np.int64)

    def step(self, x_t, eps, t, t_prev):
        """The deterministic DDIM update (η = 0) from ``t`` to ``t_prev`` (−1: the clean image).

        x̂₀ is clipped to [-1, 1] (the image range) before it is re-noised.
        """
        t, t_prev = int(t), int(t_prev)
        x0 = np.clip(self.predict_x0(x_t, t, eps), -1.0, 1.0)
        if t_prev < 0:
            return x0
        a_prev = self.alpha_bar[t_prev]
        # the noise direction recomputed from the clipped x̂₀ keeps the update consistent with it
        signal, sigma = self._coefficients(np.full(len(x_t), t), np.ndim(x_t))
        eps = (np.asarray(x_t, np.float32) - signal * x0) / sigma
        return (np.sqrt(a_prev) * x0 + np.sqrt(1.0 - a_prev) * eps).astype(np.float32)
