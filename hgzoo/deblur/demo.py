"""What ``hgzoo demo`` uses: the packaged sample pair, the best local weights, and what they are measured to give."""

import json
from importlib import resources

from hgzoo.weights import store

# Best first: the authors' models where their weights are at hand, hgzoo's own
# packaged preset (always available, trained on synthetic shake) otherwise.
PREFERENCE = ("stack_mpn_4_gopro", "dmphn_1_2_4_8_gopro", "dmphn_1_2_4_gopro", "dmphn_1_2_synthetic")
PACKAGED = "dmphn_1_2_synthetic"
# What each preset is, in the demo's words.
DESCRIPTIONS = {
    "stack_mpn_4_gopro": "the authors' Stack(4)-DMPHN GoPro weights",
    "dmphn_1_2_4_8_gopro": "the authors' DMPHN(1-2-4-8) GoPro weights",
    "dmphn_1_2_4_gopro": "the authors' DMPHN(1-2-4) GoPro weights",
    PACKAGED: "hgzoo's small packaged DMPHN(1-2), trained on synthetic camera shake, not the authors' weights",
}
# The demo's measured PSNRs on its sample, written by benchmarks/deblur/demo_sample.py.
RESULTS_FILE = "demo_results.json"
FETCH_COMMAND = "hgzoo demo --model stack_mpn_4_gopro"


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


def stored_results():
    """The measured PSNRs on the demo sample (``demo_results.json`` beside this module), or None if absent.

    ``{"blurry_db": float, "psnr_db": {preset: {precision: dB}}, "measured": provenance}``.
    """
    try:
        return json.loads((resources.files("hgzoo.deblur") / RESULTS_FILE).read_text())
    except (OSError, ValueError):
        return None


def weights_report(preset, precision, results):
    """The lines ``hgzoo demo`` prints about its weights: which, what the authors' give here, how to fetch them.

    Example:

    >>> results = {"blurry_db": 26.0, "psnr_db": {"dmphn_1_2_synthetic": {"float32": 26.5},
    ...            "stack_mpn_4_gopro": {"float32": 29.0}}, "measured": {"date": "2026-12-02"}}
    >>> print("\\n".join(weights_report("dmphn_1_2_synthetic", "float32", results)))  # doctest: +ELLIPSIS
    Weights: hgzoo's small packaged DMPHN(1-2)...
    Measured on this sample (float32, 2026-12-02): blurry 26.00 dB; dmphn_1_2_synthetic 26.50 dB (this run's weights); stack_mpn_4_gopro 29.00 dB
    For the authors' Stack(4)-DMPHN (downloaded once, with a progress bar): hgzoo demo --model stack_mpn_4_gopro
    """
    lines = [f"Weights: {DESCRIPTIONS.get(preset, preset)}"]
    if results:
        measured = {p: v[precision] for p, v in results["psnr_db"].items() if precision in v}
        listed = [p for p in reversed(PREFERENCE) if p in measured]  # weakest first
        if listed:
            parts = "; ".join(f"{p} {measured[p]:.2f} dB" + (" (this run's weights)" if p == preset else "")
                              for p in listed)
            lines.append(f"Measured on this sample ({precision}, {results['measured'].get('date', '?')[:10]}): "
                         f"blurry {results['blurry_db']:.2f} dB; {parts}")
    if preset == PACKAGED:
        lines.append(f"For the authors' Stack(4)-DMPHN (downloaded once, with a progress bar): {FETCH_COMMAND}")
    return lines
