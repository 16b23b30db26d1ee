"""Write the notebooks under notebooks/ from the cell sources below (outputs stay empty).

    python tools/make_notebooks.py

Each notebook runs offline on small settings; CI executes all of them
(tests/test_notebooks.py). Edit the sources here, not the .ipynb files.
"""

import pathlib

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]

SETUP = """import os
import numpy as np
import hgzoo
from hgzoo.deblur.demo import best_local_preset, sample_paths
from hgzoo.data.images import read_image
# The authors' weights load from a local mirror when HGZOO_WEIGHTS_DIR points at one
# (or from the cache after one download); otherwise the packaged preset is used.
preset = best_local_preset()
preset"""

NOTEBOOKS = {
    "01_quick_start.ipynb": [
        ("markdown", "# Quick start: deblur a photo\n\nBuild a model with weights in one line and deblur any image."),
        ("code", SETUP),
        ("code", """model = hgzoo.create_model(preset, pretrained=True)
blurry_path, sharp_path = sample_paths()
blurry, sharp = read_image(blurry_path), read_image(sharp_path)
result = hgzoo.deblur.deblur(model, blurry)   # any size; uint8 in, uint8 out
psnr = lambda a: float(hgzoo.metrics.psnr(sharp, a, max_value=255))
print(f"PSNR blurry {psnr(blurry):.2f} dB -> deblurred {psnr(result):.2f} dB")"""),
        ("code", """from PIL import Image
Image.fromarray(np.concatenate([blurry, result], axis=1))"""),
        ("markdown", "With network access, `hgzoo.deblur.StackMPN(pretrained=True)` downloads the authors' "
                     "Stack(4)-DMPHN checkpoint, verifies its sha256 and converts it locally."),
    ],
    "02_fine_tune.ipynb": [
        ("markdown", "# Fine-tune with `model.fit`\n\nModels compile themselves (MSE, Adam, PSNR/SSIM). "
                     "Here: a few steps on synthetic camera shake of the packaged photo."),
        ("code", SETUP),
        ("code", """from hgzoo.deblur.data.deblur_pairs import load_photos, synthetic_pairs
from hgzoo.training import fit_resumable
photos = load_photos([sample_paths()[1]])
train = synthetic_pairs(photos, crop=64, batch_size=2, seed=0)
model = hgzoo.create_model(preset, pretrained=True)
history = fit_resumable(model, train, "runs/notebook_finetune", epochs=2, steps_per_epoch=3, verbose=2)
history.history"""),
        ("markdown", "Interrupt and re-run the cell: training resumes from the last finished epoch."),
    ],
    "03_tuner_sweep.ipynb": [
        ("markdown", "# A Keras Tuner sweep\n\nThe search space is declared by constructor argument names, "
                     "so the best hyperparameters build the model directly."),
        ("code", """import keras_tuner, numpy as np, hgzoo
from hgzoo.models.search_space import Choice, Float
from hgzoo.deblur.demo import sample_paths
from hgzoo.data.images import read_image
blurry, sharp = (read_image(p).astype("float32") / 255 for p in sample_paths())
crops = [(y, x) for y in range(0, 256, 32) for x in range(0, 416, 32)]
xb = np.stack([blurry[y:y+32, x:x+32] for y, x in crops]); xs = np.stack([sharp[y:y+32, x:x+32] for y, x in crops])
hm = hgzoo.tuning.HyperModel(hgzoo.deblur.DMPHN, space={"levels": Choice([[1], [1, 2]])},
                             train_space={"learning_rate": Float(1e-4, 1e-3, "log")})
print(hm.space)"""),
        ("code", """tuner = keras_tuner.RandomSearch(hm, "val_loss", max_trials=2, directory="runs/notebook_sweep", overwrite=True)
tuner.search(xb[:80], xs[:80], validation_data=(xb[80:], xs[80:]), epochs=1, batch_size=8, verbose=0)
best = hgzoo.deblur.DMPHN(**hm.model_kwargs(tuner.get_best_hyperparameters()[0]))
best.levels"""),
    ],
    "04_export_and_serve.ipynb": [
        ("markdown", "# Export for TF Serving\n\n`export_for_serving` writes `BASE/<version>/` with a "
                     "`serving_default` signature `image` -> `deblurred`. Serve it with\n\n"
                     "```sh\ndocker run -p 8501:8501 -v $PWD/serving/deblur:/models/deblur -e MODEL_NAME=deblur "
                     "tensorflow/serving\n```\n(TF Serving itself does not run on hgzoo's CI machines; below, "
                     "the export is loaded with plain TensorFlow instead.)"),
        ("code", SETUP),
        ("code", """model = hgzoo.create_model(preset, pretrained=True)
path = hgzoo.export.export_for_serving(model, "serving/deblur", version=1, input_dtype="uint8", overwrite=True)
image = read_image(sample_paths()[0])[:64, :96]
body = hgzoo.export.predict_request({"image": image[None]})
print(path, len(body), "bytes of JSON for: curl -d @body.json localhost:8501/v1/models/deblur:predict")"""),
        ("code", """import json, tensorflow as tf
serve = tf.saved_model.load(path).signatures["serving_default"]
out = serve(image=tf.constant(np.asarray(json.loads(body)["instances"], np.uint8)))["deblurred"]
np.abs(out.numpy()[0].astype(int) - hgzoo.deblur.deblur(model, image)).max()"""),
    ],
}


def main():
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                    for kind, src in cells]
        nbformat.write(nb, ROOT / "notebooks" / name)


if __name__ == "__main__":
    main()
