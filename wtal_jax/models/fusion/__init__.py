"""Fusion modules. Importing this package registers every fusion kind."""

from wtal_jax.models.fusion import concat, cross_attention, lgca  # noqa: F401
from wtal_jax.models.fusion.base import FUSIONS, FusionOutput

__all__ = ["FUSIONS", "FusionOutput"]
from wtal_jax.models.fusion import ccm  # noqa: F401,E402
