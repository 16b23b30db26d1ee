"""run_hypermodel_test: a model class's search space builds through hgzoo.tuning.HyperModel.

Example:

>>> import hgzoo
>>> from hgzoo.testing import run_hypermodel_test
>>> model = run_hypermodel_test(hgzoo.deblur.DMPHN)  # doctest: +SKIP
"""

import inspect

from hgzoo.testing.checks import as_call_input, assert_finite, check_fit_step


def run_hypermodel_test(model_cls, fixed=None, input_data=None, target=None, train=True, reason=None):
    """Check ``model_cls.search_space`` and build one trial with keras-tuner's defaults.

    Every search-space key must be a constructor argument and be declared as
    a hyperparameter; the trial model is a ``model_cls`` with those values,
    and with ``input_data`` it predicts finite values and (``train``) takes
    one ``fit`` step with its own compile defaults.

    Args:
        model_cls: a model class with a ``search_space``.
        fixed: constructor arguments held constant (keep the trial small).
        input_data: list of arrays the trial model is run on.
        target: the label of the ``fit`` step (zeros by default).
        train: take the ``fit`` step; ``train=False`` needs a ``reason``.

    Returns:
        The trial model.
    """
    from hgzoo.config import require
    from hgzoo.testing.harness import require_reason
    from hgzoo.tuning import HyperModel

    require_reason(reason, train=train)
    space = getattr(model_cls, "search_space", None)
    if not space:
        raise AssertionError(f"{model_cls.__name__} declares no search_space")
    parameters = inspect.signature(model_cls.__init__).parameters
    unknown = [name for name in space if name not in parameters]
    if unknown:
        raise AssertionError(f"{model_cls.__name__}.search_space keys {unknown} are not constructor arguments")
    hypermodel = HyperModel(model_cls, fixed=fixed)
    hp = require("keras_tuner", "tune").HyperParameters()
    model = hypermodel.build(hp)
    undeclared = [name for name in hypermodel.model_space if name not in hp.values]
    if undeclared or type(model) is not model_cls:
        raise AssertionError(f"the trial built {type(model).__name__}, undeclared hyperparameters {undeclared}")
    if input_data is not None:
        assert_finite(model.predict_on_batch(as_call_input(list(input_data))), "trial model output")
        if train:
            check_fit_step(model, list(input_data), target=target, compile_with=None)
    return model
