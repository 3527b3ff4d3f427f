"""Temporal layers that treat padded snippets as the zero padding of a
``Conv1d(padding=k//2)``.

The public HAM-Net and CO2-Net code runs each test video unpadded, so its
temporal convolutions and average pools see zeros beyond a video's ends.
Zeroing padded snippets before each such layer reproduces that exactly for
the real snippets, whatever padding follows them in a batch.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.models import inits


def zero_padding(x_BxTxD: jax.Array, mask_BxT: jax.Array) -> jax.Array:
  """Sets padded snippets to zero."""
  return x_BxTxD * mask_BxT[..., None].astype(x_BxTxD.dtype)


class MaskedTemporalConv(nn.Module):
  """A ``SAME`` temporal convolution over real snippets only.

  Attributes:
    features: Output channels.
    kernel_size: Temporal kernel width (odd).
    init: Initialisation by name (:mod:`wtal_jax.models.inits`).
  """

  features: int
  kernel_size: int = 3
  init: str = "xavier"

  @nn.compact
  def __call__(self, x_BxTxD: jax.Array, mask_BxT: jax.Array) -> jax.Array:
    if self.kernel_size % 2 != 1:
      raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
    x = zero_padding(x_BxTxD, mask_BxT) if self.kernel_size > 1 else x_BxTxD
    return nn.Conv(self.features, (self.kernel_size,), padding="SAME",
                   name="conv", **inits.layer_inits(
                       self.init, x.shape[-1] * self.kernel_size))(x)


def masked_avg_pool(x_BxTxC: jax.Array, mask_BxT: jax.Array,
                    kernel_size: int) -> jax.Array:
  """Stride-1 average pool with ``count_include_pad=True`` semantics.

  The window sum over real snippets is divided by ``kernel_size`` (padding
  and the region beyond a video's ends count as zeros), as PyTorch's
  ``AvgPool1d(k, 1, padding=k // 2, count_include_pad=True)`` does on an
  unpadded video. ``kernel_size <= 1`` returns ``x`` unchanged.
  """
  if kernel_size <= 1:
    return x_BxTxC
  if kernel_size % 2 != 1:
    raise ValueError(f"Pool kernel must be odd, got {kernel_size}.")
  half = kernel_size // 2
  x = zero_padding(x_BxTxC, mask_BxT)
  t = x.shape[1]
  xp = jnp.pad(x, ((0, 0), (half, half), (0, 0)))
  total = sum(xp[:, i:i + t] for i in range(kernel_size))
  return total / kernel_size
