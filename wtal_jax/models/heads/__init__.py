"""Localization heads. Importing this package registers every head kind."""

from wtal_jax.models.heads import caav  # noqa: F401
from wtal_jax.models.heads.base import HEADS, HeadSpec, Localization

__all__ = ["HEADS", "HeadSpec", "Localization"]
