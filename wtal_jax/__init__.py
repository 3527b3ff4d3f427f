"""wtal_jax: weakly-supervised temporal action localization in JAX/Flax.

The public entry points are :func:`wtal_jax.training.train.train_and_evaluate`
and the command line ``python -m wtal_jax.main``.
"""

__version__ = "0.1.0"
