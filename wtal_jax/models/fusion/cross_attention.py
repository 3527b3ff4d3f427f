"""CAAV multi-stage cross-attention (CAAV §3.1, LGCA Eq. 2-6).

One stage correlates the l2-normalised snippets of two modalities through a
learnable matrix, ``Lambda = norm(X_M) W norm(X_N)^T`` (T x T), and lets each
modality re-weight its own snippets with the other's relevance:

* ``X~_M[l] = sum_i softmax_i(Lambda[i, l]) X_M[i]`` (attention over M's
  snippets for every N snippet l),
* ``X~_N[i] = sum_l softmax_l(Lambda[i, l]) X_N[l]`` (the same with Lambda^T).

Padded snippets get exactly zero attention weight, so the features of real
snippets do not depend on how much padding follows them.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax import ops
from wtal_jax.models.fusion import base

SKIP_KINDS = ("none", "skip", "dense")


class CrossAttentionStage(nn.Module):
  """One cross-attention stage between two modalities.

  Attributes:
    frozen: If true, W is drawn from a standard Gaussian at initialisation and
      stored in the non-trainable ``frozen`` collection, so it is never
      updated (LGCA Table 7, "frozen cross-attention").
  """

  frozen: bool = False

  @nn.compact
  def __call__(self, xm_BxTxDm: jax.Array, xn_BxTxDn: jax.Array,
               mask_BxT: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Returns the attended features ``(X~_M, X~_N)``, shapes as the inputs."""
    shape = (xm_BxTxDm.shape[-1], xn_BxTxDn.shape[-1])
    if self.frozen:
      w = self.variable("frozen", "W", lambda: jax.random.normal(
          self.make_rng("params"), shape, xm_BxTxDm.dtype)).value
    else:
      w = self.param("W", base.xavier, shape, xm_BxTxDm.dtype)
    corr_BxTxT = jnp.einsum(
        "bid,de,ble->bil", ops.l2_normalize(xm_BxTxDm), w,
        ops.l2_normalize(xn_BxTxDn))
    key_mask_m = mask_BxT[:, :, None]   # over i (M snippets), axis 1
    key_mask_n = mask_BxT[:, None, :]   # over l (N snippets), axis 2
    attn_m = ops.masked_softmax(corr_BxTxT, key_mask_m, axis=1)
    attn_n = ops.masked_softmax(corr_BxTxT, key_mask_n, axis=2)
    xm_att = jnp.einsum("bil,bid->bld", attn_m, xm_BxTxDm)
    xn_att = jnp.einsum("bil,bld->bid", attn_n, xn_BxTxDn)
    return xm_att, xn_att


@base.FUSIONS.register("cross_attention")
class CrossAttentionFusion(nn.Module):
  """Multi-stage cross-attention with none / single / dense skip connections.

  Stage t computes ``X_att^(t) = tanh(S^(t) + X~^(t))`` where ``X~^(t)`` is the
  cross-attention of ``X_att^(t-1)`` and ``S^(t)`` is ``0`` (``none``),
  ``X_att^(t-1)`` (``skip``) or ``sum_{i<t} X_att^(i)`` (``dense``, CAAV Eq.
  3). ``X_att^(0)`` is the stage-0 embedding. The output is the
  concatenation of the last stage's two features.

  Attributes:
    embed_dim: Stage-0 embedding width d_x (0: no embedding).
    num_stages: 1, 2 or 3.
    skip: ``none``, ``skip`` or ``dense``.
    negative_slope: LeakyReLU slope of the embedding.
    frozen: Use frozen random W (see :class:`CrossAttentionStage`).
  """

  embed_dim: int = 1024
  num_stages: int = 2
  skip: str = "dense"
  negative_slope: float = 0.01
  frozen: bool = False

  @classmethod
  def from_config(cls, cfg) -> "CrossAttentionFusion":
    return cls(embed_dim=cfg.embed_dim, num_stages=cfg.num_stages,
               skip=cfg.get("skip", "dense"),
               negative_slope=cfg.get("negative_slope", 0.01),
               frozen=cfg.kind == "frozen_cross_attention")

  @nn.compact
  def __call__(self, xs, mask_BxT: jax.Array, *, train: bool
               ) -> base.FusionOutput:
    del train  # No stochastic layers.
    if self.skip not in SKIP_KINDS:
      raise ValueError(f"skip must be one of {SKIP_KINDS}, got {self.skip!r}.")
    xm, xn = base.embed_all(xs, self.embed_dim, self.negative_slope, mask_BxT)
    history = [(xm, xn)]
    for t in range(1, self.num_stages + 1):
      prev_m, prev_n = history[-1]
      att_m, att_n = CrossAttentionStage(self.frozen, name=f"stage{t}")(
          prev_m, prev_n, mask_BxT)
      if self.skip == "dense":
        skip_m = sum(h[0] for h in history)
        skip_n = sum(h[1] for h in history)
      elif self.skip == "skip":
        skip_m, skip_n = prev_m, prev_n
      else:
        skip_m = skip_n = 0.0
      history.append((jnp.tanh(skip_m + att_m), jnp.tanh(skip_n + att_n)))
    return base.fuse(history[-1])


@base.FUSIONS.register("frozen_cross_attention")
class FrozenCrossAttentionFusion(CrossAttentionFusion):
  """Cross-attention whose W matrices are random and never trained."""
