"""The composed localization model ``f(X_M, X_N) = head(fusion(X_M, X_N))``.

Any registered fusion composes with any registered head: the fusion hands the
head a :class:`~wtal_jax.models.fusion.base.FusionOutput` carrying both the
fused features and the per-modality streams.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax

from wtal_jax.models import width
from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.heads import HEADS

# RNG streams a model may draw from while training.
RNG_STREAMS = ("dropout", "gumbel")


class WTALModel(nn.Module):
  """Fusion followed by a localization head.

  Attributes:
    fusion: The fusion module (registered under ``config.model.fusion.kind``).
    head: The head module (registered under ``config.model.head.kind``).
  """

  fusion: nn.Module
  head: nn.Module

  def __call__(self, inputs: Sequence[jax.Array], mask_BxT: jax.Array, *,
               train: bool) -> dict[str, Any]:
    """Runs the model.

    Args:
      inputs: One ``(B, T, D_m)`` array per modality group, in config order.
      mask_BxT: True on real snippets.
      train: Enables dropout and stochastic gates.

    Returns:
      The head's output dict.
    """
    fused = self.fusion(tuple(inputs), mask_BxT, train=train)
    return self.head(fused, mask_BxT, train=train)


def head_config(model_cfg):
  """The head config the losses and predict function use: the config's,
  at its ``model.width`` (see :mod:`wtal_jax.models.width`)."""
  return width.resolve(model_cfg).head


def build_model(model_cfg, num_classes: int) -> WTALModel:
  """Instantiates the model named by ``model_cfg.fusion.kind`` and
  ``model_cfg.head.kind``, at the config's ``model.width``."""
  model_cfg = width.resolve(model_cfg)
  fusion_cls = FUSIONS.get(model_cfg.fusion.kind)
  head_spec = HEADS.get(model_cfg.head.kind)
  return WTALModel(
      fusion=fusion_cls.from_config(model_cfg.fusion),
      head=head_spec.module.from_config(model_cfg.head, num_classes))
