"""Localization heads. Importing this package registers every head kind."""

from wtal_jax.models.heads import caav  # noqa: F401
from wtal_jax.models.heads.base import HEADS, HeadSpec, Localization

__all__ = ["HEADS", "HeadSpec", "Localization"]
from wtal_jax.models.heads import um  # noqa: F401,E402
from wtal_jax.models.heads import asl  # noqa: F401,E402
from wtal_jax.models.heads import threec  # noqa: F401,E402
from wtal_jax.models.heads import hamnet  # noqa: F401,E402
from wtal_jax.models.heads import co2net  # noqa: F401,E402
