"""Fusion baselines without cross-modal interaction (LGCA Table 7).

``concat`` is the 0-stage baseline: each modality is optionally embedded by its
own FC and the results are concatenated. ``gaussian_noise`` is the same plus
Gaussian noise of a fixed scale on the input features during training, the
noise-regularisation control for the leaky gate.
"""

from __future__ import annotations

import flax.linen as nn
import jax

from wtal_jax.models import randomness
from wtal_jax.models.fusion import base


@base.FUSIONS.register("concat")
class ConcatFusion(nn.Module):
  """Concatenates (optionally embedded) modalities.

  Attributes:
    embed_dim: Per-modality FC width; 0 concatenates the raw features.
    negative_slope: LeakyReLU slope of the embedding.
    noise_scale: Std of Gaussian noise added to the inputs when training
      (uses the ``dropout`` RNG stream); 0 disables it.
  """

  embed_dim: int = 0
  negative_slope: float = 0.01
  noise_scale: float = 0.0

  @classmethod
  def from_config(cls, cfg) -> "ConcatFusion":
    return cls(embed_dim=cfg.embed_dim,
               negative_slope=cfg.get("negative_slope", 0.01),
               noise_scale=(cfg.get("noise_scale", 0.0)
                            if cfg.kind == "gaussian_noise" else 0.0))

  @nn.compact
  def __call__(self, xs, mask_BxT: jax.Array, *, train: bool
               ) -> base.FusionOutput:
    if train and self.noise_scale > 0:
      key = self.make_rng("dropout")
      keys = jax.random.split(key, len(xs))
      xs = [x + self.noise_scale * randomness.normal(k, x.shape, x.dtype)
            for k, x in zip(keys, xs)]
    return base.fuse(base.embed_all(xs, self.embed_dim, self.negative_slope,
                                    mask_BxT))


@base.FUSIONS.register("gaussian_noise")
class GaussianNoiseFusion(ConcatFusion):
  """Concatenation with training-time Gaussian input noise."""
