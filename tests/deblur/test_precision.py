"""precision="auto": the rule, forcing a precision, the per-machine cache, and the demo's account of its weights."""

import json
import os
import re

import numpy as np
import pytest

import hgzoo
from hgzoo.deblur import demo as demo_module
from hgzoo.deblur import precision as P

NO_BF16 = {"cpu": "AMD EPYC 7B13", "native_bfloat16_flags": [], "gpus": [], "backend": "tensorflow"}
AMX = {"cpu": "Intel Xeon", "native_bfloat16_flags": ["amx_bf16", "avx512_bf16"], "gpus": [], "backend": "tensorflow"}
GPU = {"cpu": "AMD EPYC 7B13", "native_bfloat16_flags": [], "gpus": ["gpu:0"], "backend": "jax"}


def fake_probe(seconds, calls=None):
    def probe(dtype):
        if calls is not None:
            calls.append(dtype)
        return seconds[dtype]
    return probe


def refuse_probe(dtype):
    raise AssertionError("a machine without native bfloat16 must not be probed")


def test_capability_rule():
    assert P.decide(NO_BF16, refuse_probe)["precision"] == "float32"
    fast = fake_probe({"float32": 1.0, "bfloat16": 0.3})
    slow = fake_probe({"float32": 1.0, "bfloat16": 1.5})
    marginal = fake_probe({"float32": 1.0, "bfloat16": 1.0 / (P.MIN_SPEEDUP - 0.05)})
    assert P.decide(AMX, fast)["precision"] == "bfloat16"
    assert P.decide(GPU, fast)["precision"] == "bfloat16"
    assert P.decide(AMX, slow)["precision"] == "float32"  # flags alone are not enough: it must be faster
    assert P.decide(AMX, marginal)["precision"] == "float32"
    assert "amx_bf16" in P.decide(AMX, fast)["reason"]


def test_cpu_flags_are_read(monkeypatch):
    model, flags = P.cpu_info()
    assert isinstance(model, str) and isinstance(flags, set)
    monkeypatch.setattr(P, "cpu_info", lambda: ("Some CPU", {"sse2", "avx512_bf16"}))
    assert P.capability()["native_bfloat16_flags"] == ["avx512_bf16"]


def test_cache_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path))
    calls = []
    probe = fake_probe({"float32": 1.0, "bfloat16": 0.25}, calls)
    monkeypatch.setattr(P, "capability", lambda: dict(AMX))
    assert P.machine_precision(probe=probe) == "bfloat16"
    assert P.machine_precision(probe=probe) == "bfloat16"
    assert calls == ["float32", "bfloat16"]  # probed once, then read from the cache
    cache = json.loads((tmp_path / P.CACHE_FILE).read_text())
    assert cache[P.machine_key(AMX)]["precision"] == "bfloat16"
    monkeypatch.setattr(P, "capability", lambda: dict(NO_BF16))  # another machine, its own entry
    assert P.machine_precision(probe=refuse_probe) == "float32"
    assert set(json.loads((tmp_path / P.CACHE_FILE).read_text())) == {P.machine_key(AMX), P.machine_key(NO_BF16)}
    assert P.machine_precision(refresh=True, probe=refuse_probe) == "float32"
    (tmp_path / P.CACHE_FILE).write_text("{half a fi")  # damaged: decided again and rewritten whole
    monkeypatch.setattr(P, "capability", lambda: dict(AMX))
    assert P.machine_precision(probe=probe) == "bfloat16" and len(calls) == 4
    assert json.loads((tmp_path / P.CACHE_FILE).read_text())[P.machine_key(AMX)]["precision"] == "bfloat16"
    assert os.listdir(tmp_path) == [P.CACHE_FILE]  # written atomically: no temporary left behind


def test_resolve(monkeypatch):
    monkeypatch.setattr(P, "machine_precision", lambda: "bfloat16")
    big = P.AUTO_MIN_PIXELS
    assert P.resolve("auto", np.uint8, big) == "bfloat16"
    assert P.resolve("auto", np.uint16, big) == "float32"  # 16-bit images keep their precision
    assert P.resolve("auto", np.float32, big) == "float32"
    assert P.resolve("auto", np.uint8, big - 1) == "float32"
    assert P.resolve("float32", np.uint8, big) == "float32"
    assert P.resolve("bfloat16", np.uint16, 4) == "bfloat16"  # forced is forced
    monkeypatch.setattr(P, "machine_precision", lambda: "float32")
    assert P.resolve("auto", np.uint8, big) == "float32"
    with pytest.raises(ValueError, match="precision must be one of"):
        P.resolve("fp16", np.uint8, big)


@pytest.fixture(scope="module")
def tiny():
    return hgzoo.deblur.DMPHN(levels=(1,))


def test_forced_precisions_and_the_16_bit_rule(tiny, monkeypatch):
    assert P.in_precision(tiny, "float32") is tiny
    twin = P.in_precision(tiny, "bfloat16")
    assert P.compute_dtype(twin) == "bfloat16" and P.in_precision(tiny, "bfloat16") is twin
    rng = np.random.default_rng(0)
    image = (rng.random((256, 256, 3)) * 255).astype(np.uint8)
    f32 = hgzoo.deblur.deblur(tiny, image, precision="float32")
    bf16 = hgzoo.deblur.deblur(tiny, image, precision="bfloat16")
    assert f32.dtype == bf16.dtype == np.uint8
    diff = np.abs(f32.astype(int) - bf16)
    assert 0 < diff.max() <= 8 and diff.mean() < 1  # bfloat16 really ran, and stayed close
    monkeypatch.setattr(P, "machine_precision", lambda: "bfloat16")
    np.testing.assert_array_equal(hgzoo.deblur.deblur(tiny, image), bf16)
    image16 = image.astype(np.uint16) * 257
    np.testing.assert_array_equal(hgzoo.deblur.deblur(tiny, image16),
                                  hgzoo.deblur.deblur(tiny, image16, precision="float32"))
    with pytest.raises(ValueError, match="precision must be one of"):
        hgzoo.deblur.deblur(tiny, image, precision="half")


def test_twin_follows_the_weights(tiny):
    twin = P.in_precision(tiny, "bfloat16")
    kernel = tiny.get_layer("encoder_lv1").convs["layer1"].kernel
    old = kernel.numpy()
    try:
        kernel.assign(old + 1.0)
        again = P.in_precision(tiny, "bfloat16")
        np.testing.assert_array_equal(again.get_layer("encoder_lv1").convs["layer1"].kernel.numpy(), old + 1.0)
        assert again is twin
    finally:
        kernel.assign(old)


def test_cli_takes_precision():
    from hgzoo.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["deblur", "run", "a.png"]).precision == "auto"
    assert parser.parse_args(["deblur", "run", "a.png", "--precision", "bfloat16"]).precision == "bfloat16"
    args = parser.parse_args(["demo", "--model", "stack_mpn_4_gopro", "--precision", "float32"])
    assert (args.model, args.precision) == ("stack_mpn_4_gopro", "float32")
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--precision", "float16"])


def test_stored_demo_numbers_match_the_benchmark():
    stored = demo_module.stored_results()
    assert stored is not None, "hgzoo/deblur/demo_results.json is missing: run benchmarks/deblur/demo_sample.py"
    path = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "results", "deblur", "demo_sample.json")
    with open(path) as f:
        bench = json.load(f)
    rows = {r["preset"]: r for r in bench["rows"]}
    for preset in demo_module.PREFERENCE:
        for precision in ("float32", "bfloat16"):
            assert stored["psnr_db"][preset][precision] == rows[preset][f"psnr_{precision}"]
    assert stored["measured"]["commit"] == bench["commit"]


def test_demo_says_which_weights_and_how_to_get_the_authors(tmp_path, capsys, monkeypatch):
    from hgzoo.cli.main import main

    monkeypatch.setattr(demo_module, "best_local_preset", lambda: demo_module.PACKAGED)
    assert main(["demo", "-o", str(tmp_path), "--precision", "float32"]) == 0
    out = capsys.readouterr().out
    stored = demo_module.stored_results()["psnr_db"]
    assert "not the authors' weights" in out and demo_module.FETCH_COMMAND in out
    measured = dict(re.findall(r"(\w+) (\d+\.\d\d) dB", out.split("Measured on this sample", 1)[1].split("\n")[0]))
    for preset in ("dmphn_1_2_synthetic", "dmphn_1_2_4_gopro", "stack_mpn_4_gopro"):
        assert float(measured[preset]) == pytest.approx(stored[preset]["float32"], abs=0.005)
    assert "Precision: float32" in out
    report = demo_module.weights_report("stack_mpn_4_gopro", "bfloat16", demo_module.stored_results())
    assert "the authors'" in report[0] and not any(demo_module.FETCH_COMMAND in line for line in report)
