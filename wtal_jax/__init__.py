"""wtal_jax: weakly-supervised temporal action localization in JAX/Flax.

The public entry points are :func:`wtal_jax.training.train.train_and_evaluate`
and the command line ``python -m wtal_jax.main``; a trained run localizes
actions in new videos with :class:`wtal_jax.Localizer` or
``python -m wtal_jax.predict``.
"""

__version__ = "0.1.0"
__all__ = ["Localizer"]


def __getattr__(name):
  # Imported on first use, so that ``import wtal_jax`` (and every
  # ``python -m wtal_jax.<tool> --help``) does not load JAX and the models.
  if name == "Localizer":
    from wtal_jax.inference import Localizer  # pylint: disable=g-import-not-at-top
    return Localizer
  raise AttributeError(f"module 'wtal_jax' has no attribute {name!r}")
