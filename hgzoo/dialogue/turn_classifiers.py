"""Keras models that learn from the corpus: a per-turn strategy classifier and an attitude-state tracker.

Both are :class:`~hgzoo.text.LLMEmbed` heads over the text family's frozen
multi-layer embeddings (:class:`~hgzoo.text.FeatureExtractor`, by default
the packaged all-MiniLM-L6-v2: 5 layers × 384), with the label set of this
family kept as ``class_names``.
"""

from keras import ops

from hgzoo.dialogue.taxonomy import ATTITUDE_STATES, NON_STRATEGY, STRATEGIES
from hgzoo.models.search_space import Float, Int
from hgzoo.registry import register_model
from hgzoo.text import LLMEmbed

# LLMEmbed's space around these heads' narrower defaults (projection 128).
NARROW_SEARCH_SPACE = {
    "sigma": Float(1e-3, 1.0, sampling="log"),
    "dropout": Float(0.1, 0.6),
    "projection_dim": Int(64, 256, step=64),
}


@register_model(task="dialogue", name="strategy_classifier")
class StrategyClassifier(LLMEmbed):
    """Which persuasion strategy a persuader turn uses, from its text's embeddings.

    Paper says: MADS generates data to train persuasion models; the model is
    not specified. Chose: the LLMEmbed head (projected layer streams,
    power-normalised co-occurrence, MLP) with narrower defaults
    (projection 128, hidden 128 and 64, dropout 0.3, per-feature
    standardization) since a simulated corpus holds hundreds of turns, not
    the tens of thousands LLMEmbed was published on. Classes: ``non-strategy``
    and PersuasionForGood's ten strategies.

    Inputs ``layer_embeddings`` (B, layers, dim); outputs logits (B, classes).

    >>> import numpy as np
    >>> model = StrategyClassifier(num_layers=2, feature_dim=8)
    >>> tuple(model(np.random.rand(3, 2, 8).astype("float32")).shape)
    (3, 11)
    """

    search_space = NARROW_SEARCH_SPACE

    def __init__(self, num_classes=None, class_names=None, num_layers=5, feature_dim=384, projection_dim=128,
                 hidden_units=(128, 64), dropout=0.3, sigma=0.01, standardize=True, name="strategy_classifier",
                 **kwargs):
        class_names = list(class_names or (NON_STRATEGY, *STRATEGIES))
        super().__init__(num_classes=num_classes or len(class_names), class_names=class_names, num_layers=num_layers,
                         feature_dim=feature_dim, projection_dim=projection_dim, hidden_units=hidden_units,
                         dropout=dropout, sigma=sigma, standardize=standardize, name=name, **kwargs)


@register_model(task="dialogue", name="attitude_tracker")
class AttitudeTracker(LLMEmbed):
    """The user's attitude state after a turn, from the turn's embeddings and the previous state.

    The Chain-of-Attitude is a first-order Markov chain, so the tracker
    conditions on the previous state: a one-hot of the 16 states plus
    ``start`` (the first user turn) joins the LLMEmbed head as an extra
    stream (``extra_embeddings_0`` inside the model, ``previous_state`` in
    the serving signature). Same narrow defaults as
    :class:`StrategyClassifier`, for the same reason.

    >>> import numpy as np
    >>> model = AttitudeTracker(num_layers=2, feature_dim=8)
    >>> previous = np.eye(17, dtype="float32")[[16, 3, 5]]  # start, then states 3 and 5
    >>> tuple(model([np.random.rand(3, 2, 8).astype("float32"), previous]).shape)
    (3, 16)
    """

    search_space = NARROW_SEARCH_SPACE

    def __init__(self, num_classes=None, class_names=None, num_layers=5, feature_dim=384, extra_dims=None,
                 projection_dim=128, hidden_units=(128, 64), dropout=0.3, sigma=0.01, standardize=True,
                 name="attitude_tracker", **kwargs):
        class_names = list(class_names or ATTITUDE_STATES)
        num_classes = num_classes or len(class_names)
        super().__init__(num_classes=num_classes, class_names=class_names, num_layers=num_layers,
                         feature_dim=feature_dim, extra_dims=extra_dims or (num_classes + 1,),
                         projection_dim=projection_dim, hidden_units=hidden_units, dropout=dropout, sigma=sigma,
                         standardize=standardize, name=name, **kwargs)

    def serving_signature(self, input_dtype="float32"):
        """Inputs ``layer_embeddings`` (B, L, D) and ``previous_state`` (B, states + 1) one-hot; outputs
        ``probabilities`` and ``classes`` (int32)."""
        if input_dtype != "float32":
            raise ValueError(f"AttitudeTracker serves float32 embeddings, got input_dtype={input_dtype!r}")
        a = self._args
        specs = {"layer_embeddings": ((None, a["num_layers"], a["feature_dim"]), "float32"),
                 "previous_state": ((None, a["extra_dims"][0]), "float32")}

        def serve(layer_embeddings, previous_state):
            y = self([layer_embeddings, previous_state], training=False)
            return {"probabilities": ops.softmax(y, axis=-1), "classes": ops.cast(ops.argmax(y, axis=-1), "int32")}

        return specs, serve
