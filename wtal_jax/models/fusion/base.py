"""Shared pieces of every fusion module: the output type, the registry and the
stage-0 per-modality embedding."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp

from wtal_jax.registry import Registry

# Fusion kind -> module class. Every class has ``from_config(cfg)``.
FUSIONS: Registry = Registry("fusion")

xavier = nn.initializers.xavier_uniform()


@flax.struct.dataclass
class FusionOutput:
  """What every fusion module hands to a head.

  Heads that work on one fused representation (CAAV, HAM-Net, UM) read
  ``fused_BxTxF``. Heads that keep per-modality streams (ASL, 3C-Net,
  CO2-Net) read ``per_modality``, the fusion's final per-modality features in
  input order; their concatenation along features equals ``fused_BxTxF``.
  """

  fused_BxTxF: jax.Array
  per_modality: tuple[jax.Array, ...]


def fuse(per_modality: Sequence[jax.Array]) -> FusionOutput:
  """Builds a :class:`FusionOutput` by concatenating along features."""
  per_modality = tuple(per_modality)
  return FusionOutput(jnp.concatenate(per_modality, axis=-1), per_modality)


class ModalityEmbedding(nn.Module):
  """Stage 0: a per-modality FC + LeakyReLU to ``dim`` (CAAV's f_u, f_v).

  Attributes:
    dim: Output width d_x; ``0`` passes the features through unchanged.
    negative_slope: LeakyReLU slope.
  """

  dim: int
  negative_slope: float = 0.01

  @nn.compact
  def __call__(self, x_BxTxD: jax.Array) -> jax.Array:
    if not self.dim:
      return x_BxTxD
    y = nn.Dense(self.dim, kernel_init=xavier, name="fc")(x_BxTxD)
    return nn.leaky_relu(y, self.negative_slope)


def embed_all(xs: Sequence[jax.Array], dim: int, negative_slope: float,
              mask_BxT: jax.Array) -> list[jax.Array]:
  """Embeds each modality with its own FC; zeroes padded snippets.

  Must be called inside a compact module (it creates submodules named
  ``embed_0``, ``embed_1``, ...).
  """
  m = mask_BxT[..., None].astype(xs[0].dtype)
  return [ModalityEmbedding(dim, negative_slope, name=f"embed_{i}")(x) * m
          for i, x in enumerate(xs)]
