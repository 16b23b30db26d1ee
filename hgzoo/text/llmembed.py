"""LLMEmbed: a small head over frozen multi-layer LLM embeddings (Liu et al., ACL 2024)."""

import keras
import numpy as np
from keras import ops

from hgzoo.layers import PowerNorm, SecondOrderPool
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Float, Int
from hgzoo.registry import register_model
from hgzoo.text.stream_projection import StreamProjection


@register_model(task="text", name="llmembed")
class LLMEmbed(ZooModel):
    """The LLMEmbed classification head: projected layer streams, power-normalised co-occurrence, MLP.

    Wiring as in the official ``DownstreamModel.py`` (``papers.md`` §14):
    each of the L layer embeddings goes through its own Dense(projection) +
    ReLU + Dropout; extra encoder embeddings (the paper's BERT and RoBERTa)
    join as further streams, as they are when already ``projection_dim``
    wide, else through their own Dense + ReLU; the S streams X (S×P) give the
    co-occurrence XXᵀ (:class:`~hgzoo.layers.SecondOrderPool` over the P
    features), normalised by ``2·sigmoid(σ·XXᵀ) − 1``
    (:class:`~hgzoo.layers.PowerNorm` SigmE, σ in the original's units); the
    S² values, concatenated with the mean of the L raw layer embeddings, go
    through Dense 1024 + ReLU + Dropout, 256 + ReLU + Dropout, and a final
    Dense to ``num_classes`` logits.

    The official code applies softmax in the model and again inside its
    cross-entropy; ``double_softmax=True`` reproduces that (the output is
    then probabilities that the loss treats as logits). By default the model
    outputs logits and compiles with cross-entropy from logits, Adam(1e-4)
    and accuracy, as the original's optimiser.

    Args:
        num_classes: output classes.
        num_layers, feature_dim: L and D of the ``layer_embeddings`` input
            (B, L, D) (all-MiniLM-L6-v2, last five layers: 5 and 384).
        extra_dims: widths of extra single-vector embeddings, one input each
            (``extra_embeddings_0``, ...); the paper's are ``(1024, 1024)``.
        projection_dim, hidden_units, dropout: 1024, (1024, 256), 0.5.
        sigma: the SigmE strength on the unscaled XXᵀ.
        double_softmax: reproduce the official double softmax.
        co_occurrence: fuse the streams by the SigmE-normalised Gram matrix
            (the paper). ``False`` is the ablation without it: the S
            projected streams are concatenated (S·P values) in its place,
            so the MLP sees the same streams without their co-occurrence.
            The paper argues the Gram term, not the extra streams, carries
            the gain; concatenation is the plainest fusion that keeps every
            stream's information.
        standardize: standardize every input feature (per layer and
            dimension) with a mean and variance set by :meth:`adapt` on the
            training features, before everything else. Not in the paper; a
            decoder LLM's pre-norm hidden states carry a few dimensions in the
            thousands (SmolLM2: ~4,000 against a median of ~7), and on raw
            features the head did not train (SST-2 subset, 54.8 % against
            76.6 % for a logistic regression on the last layer).
        class_names: label names in index order, kept with the model.
        encoder: the :meth:`FeatureExtractor.config` that made the features,
            kept so a saved head predicts from raw text (``hgzoo text predict``).
        extra_encoders: the configs that made each ``extra_embeddings_i``
            (:class:`~hgzoo.text.FusionExtractor` fills both).

    As the paper: :meth:`FusionExtractor.build_head` gives the LLM's
    per-layer streams (SmolLM2-135M, last five layers) and two encoder
    streams (all-mpnet-base-v2, all-MiniLM-L6-v2), fused as above.

    Example:

    >>> import numpy as np, hgzoo
    >>> head = hgzoo.text.LLMEmbed(num_classes=2, num_layers=5, feature_dim=384)
    >>> tuple(head(np.random.rand(3, 5, 384).astype("float32")).shape)
    (3, 2)
    """

    search_space = {
        "sigma": Float(1e-3, 1.0, sampling="log"),
        "dropout": Float(0.1, 0.6),
        "projection_dim": Int(256, 1024, step=256),
    }

    def __init__(self, num_classes, num_layers=5, feature_dim=384, extra_dims=(), projection_dim=1024,
                 hidden_units=(1024, 256), dropout=0.5, sigma=0.01, double_softmax=False, standardize=False,
                 co_occurrence=True, class_names=None,
                 encoder=None, extra_encoders=None, name="llmembed", dtype=None, **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if class_names is not None and len(class_names) != int(num_classes):
            raise ValueError(f"{len(class_names)} class_names for num_classes={num_classes}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        if float(sigma) <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        if extra_encoders is not None and len(extra_encoders) != len(extra_dims):
            raise ValueError(f"{len(extra_encoders)} extra_encoders for {len(extra_dims)} extra_dims")
        layers_in = keras.Input((int(num_layers), int(feature_dim)), name="layer_embeddings")
        extras_in = [keras.Input((int(d),), name=f"extra_embeddings_{i}") for i, d in enumerate(extra_dims)]
        layers_x, extras_x = layers_in, list(extras_in)
        if standardize:
            layers_x = keras.layers.Normalization(axis=(1, 2), name="layer_standardize", dtype=dtype)(layers_in)
            extras_x = [keras.layers.Normalization(name=f"extra_standardize_{i}", dtype=dtype)(e)
                        for i, e in enumerate(extras_in)]
        x = StreamProjection(projection_dim, activation="relu", name="layer_projection", dtype=dtype)(layers_x)
        streams = [keras.layers.Dropout(dropout, name="layer_projection_dropout", dtype=dtype)(x)]
        for i, (extra, d) in enumerate(zip(extras_x, extra_dims)):
            if int(d) != int(projection_dim):
                extra = keras.layers.Dense(projection_dim, activation="relu", name=f"extra_projection_{i}",
                                           dtype=dtype)(extra)
            streams.append(keras.layers.Reshape((1, projection_dim), name=f"extra_stream_{i}", dtype=dtype)(extra))
        x = streams[0] if len(streams) == 1 else keras.layers.Concatenate(axis=1, name="streams", dtype=dtype)(streams)
        if co_occurrence:
            # SecondOrderPool averages over the P positions it is given; σ·P undoes that average.
            x = keras.layers.Permute((2, 1), name="features_first", dtype=dtype)(x)
            x = SecondOrderPool("autocorrelation", name="co_occurrence", dtype=dtype)(x)
            x = PowerNorm("sigme", float(sigma) * projection_dim, name="power_norm", dtype=dtype)(x)
            x = keras.layers.Flatten(name="co_occurrence_flat", dtype=dtype)(x)
        else:
            x = keras.layers.Flatten(name="streams_flat", dtype=dtype)(x)
        mean = keras.layers.GlobalAveragePooling1D(name="layer_mean", dtype=dtype)(layers_x)
        x = keras.layers.Concatenate(name="fused", dtype=dtype)([x, mean])
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation="relu", name=f"fc{i + 1}", dtype=dtype)(x)
            x = keras.layers.Dropout(dropout, name=f"fc{i + 1}_dropout", dtype=dtype)(x)
        y = keras.layers.Dense(num_classes, name="logits", dtype="float32")(x)
        if double_softmax:
            y = keras.layers.Softmax(name="probabilities", dtype="float32")(y)
        inputs = layers_in if not extras_in else [layers_in, *extras_in]
        super().__init__(inputs=inputs, outputs=y, name=name, dtype=dtype, **kwargs)
        self._args = {"num_classes": int(num_classes), "num_layers": int(num_layers),
                      "feature_dim": int(feature_dim), "extra_dims": [int(d) for d in extra_dims],
                      "projection_dim": int(projection_dim), "hidden_units": [int(u) for u in hidden_units],
                      "dropout": float(dropout), "sigma": float(sigma), "double_softmax": bool(double_softmax),
                      "standardize": bool(standardize), "co_occurrence": bool(co_occurrence),
                      "class_names": None if class_names is None else [str(c) for c in class_names],
                      "encoder": None if encoder is None else dict(encoder),
                      "extra_encoders": None if extra_encoders is None else [dict(e) for e in extra_encoders]}
        self.class_names = self._args["class_names"] or [str(i) for i in range(int(num_classes))]
        self.encoder = self._args["encoder"]
        self.extra_encoders = self._args["extra_encoders"]
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def adapt(self, inputs):
        """Set the ``standardize`` layers' means and variances from training features (the model's inputs:
        ``layer_embeddings``, then each ``extra_embeddings_i``)."""
        if not self._args["standardize"]:
            raise ValueError("adapt() sets the input standardization of a head built with standardize=True")
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        names = ["layer_standardize"] + [f"extra_standardize_{i}" for i in range(len(self._args["extra_dims"]))]
        if len(inputs) != len(names):
            raise ValueError(f"adapt() needs {len(names)} arrays (the model's inputs), got {len(inputs)}")
        for name, x in zip(names, inputs):
            self.get_layer(name).adapt(x)

    def predict(self, x, *args, **kwargs):
        """Keras ``predict`` over features (logits by default); over a list of raw strings it is
        :meth:`predict_texts` (class probabilities, default feature cache), so a head with recorded
        backbones answers ``head.predict(["a sentence"])``."""
        if isinstance(x, (list, tuple, np.ndarray)) and len(x) and all(isinstance(t, str) for t in x):
            verbose = kwargs.get("verbose", args[1] if len(args) > 1 else "auto")
            return self.predict_texts([str(t) for t in x], progress=verbose not in (0, "0", False))
        return super().predict(x, *args, **kwargs)

    def predict_texts(self, texts, cache_dir=None, threads=None, progress=False):
        """Class probabilities (N, classes) for raw ``texts``: the backbones this head records
        (``encoder``, ``extra_encoders``) embed them first, loaded once per head and cache settings.

        >>> head = hgzoo.create_model("llmembed_fusion_sst2", pretrained=True)  # doctest: +SKIP
        >>> p = head.predict_texts(["a gripping, beautifully acted film"])  # doctest: +SKIP
        >>> head.class_names[int(p[0].argmax())]  # doctest: +SKIP
        'positive'
        """
        from hgzoo.text.fusion import FusionExtractor

        if isinstance(texts, str):
            raise TypeError("predict_texts takes a list of texts; wrap a single text in a list")
        key = (cache_dir, threads)
        if getattr(self, "_text_extractor", (None, None))[0] != key:
            self._text_extractor = (key, FusionExtractor.for_head(self, cache_dir=cache_dir, threads=threads))
        features = self._text_extractor[1].extract(list(texts), progress=progress)
        outputs = self.predict(features, batch_size=1024, verbose=0)
        if self._args["double_softmax"]:
            return outputs
        return keras.ops.convert_to_numpy(keras.ops.softmax(outputs, axis=-1))

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults: Adam(1e-4), cross-entropy on the logits, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-4)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def serving_signature(self, input_dtype="float32"):
        """Inputs ``layer_embeddings`` (B, L, D) (+ ``extra_embeddings_i``), outputs
        ``probabilities`` (B, classes) and ``classes`` (B,) int32: serving over precomputed features."""
        if input_dtype != "float32":
            raise ValueError(f"LLMEmbed serves float32 embeddings, got input_dtype={input_dtype!r}")
        a = self._args
        specs = {"layer_embeddings": ((None, a["num_layers"], a["feature_dim"]), "float32"),
                 **{f"extra_embeddings_{i}": ((None, d), "float32") for i, d in enumerate(a["extra_dims"])}}

        def serve(layer_embeddings, *extras):
            y = self([layer_embeddings, *extras] if extras else layer_embeddings, training=False)
            probabilities = y if a["double_softmax"] else ops.softmax(y, axis=-1)
            return {"probabilities": probabilities, "classes": ops.cast(ops.argmax(y, axis=-1), "int32")}

        return specs, serve

    @property
    def input_contract(self):
        return {"inputs": ["layer_embeddings"] + [f"extra_embeddings_{i}" for i in range(len(self._args["extra_dims"]))],
                "encoder": self.encoder, "extra_encoders": self.extra_encoders, "class_names": self.class_names, "output": "logits (B, classes)"}
