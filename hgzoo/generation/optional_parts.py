"""The generation family's packages that install only with ``--no-deps`` (``hgzoo generation install-parts``).

keras-hub (Stable Diffusion 3 for :class:`~hgzoo.generation.SD3Denoiser`)
declares ``tensorflow-text``, which pulls the full TensorFlow beside
``tensorflow-cpu``; gan-face-generate (a 64×64 DCGAN of DigiFace-1M faces, the
training faces) declares torchvision and wandb. Neither needs them for what
hgzoo uses, so they are pinned here and installed without their dependencies
(the DCGAN needs torch, which the ``text`` extra pins).

Example:

>>> install_commands("python")[0]
['python', '-m', 'pip', 'install', '--no-deps', 'keras-hub==0.32.0', 'gan-face-generate==1.1.1']
"""

import sys

NO_DEPS_PACKAGES = ("keras-hub==0.32.0", "gan-face-generate==1.1.1")
INSTALL_HINT = f"hgzoo generation install-parts (pip install --no-deps {' '.join(NO_DEPS_PACKAGES)})"


def install_commands(python=None):
    """The pip commands that install :data:`NO_DEPS_PACKAGES` without their declared dependencies."""
    return [[python or sys.executable, "-m", "pip", "install", "--no-deps", *NO_DEPS_PACKAGES]]
