"""What ``hgzoo demo`` uses: the packaged sample pair and the best local weights."""

from importlib import resources

from hgzoo.weights import store

# Best first: the authors' models where their weights are at hand, hgzoo's own
# packaged preset (always available, trained on synthetic shake) otherwise.
PREFERENCE = ("stack_mpn_4_gopro", "dmphn_1_2_4_8_gopro", "dmphn_1_2_4_gopro", "dmphn_1_2_synthetic")


def best_local_preset():
    """The first preset of :data:`PREFERENCE` whose weights load without a download.

    Example:

    >>> from hgzoo.deblur.demo import best_local_preset
    >>> best_local_preset() in PREFERENCE
    True
    """
    for preset_id in PREFERENCE:
        if store.available_locally(preset_id):
            return preset_id
    raise RuntimeError("no deblurring weights available locally, not even the packaged preset; "
                       "reinstall hgzoo")


def sample_paths():
    """(blurry, sharp) paths of the packaged demo photo (CC0, see samples/README.md)."""
    root = resources.files("hgzoo.samples")
    return str(root / "chelsea_shake.png"), str(root / "chelsea_sharp.png")
