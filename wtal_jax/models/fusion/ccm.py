"""CO2-Net's cross-modal consensus module (CCM; Hong et al., ACM MM 2021).

Each modality (the "main" one) is recalibrated channel-wise by the other (the
"auxiliary" one), in both directions:

* global context of the main modality: ``M^G = f_G(avgpool_T(X_main))``, one
  ``D_main`` vector per video;
* local context of the auxiliary modality: ``M^L = f_L(X_aux)``, per snippet;
* ``X_main' = sigmoid(M^G * M^L) * X_main``.

``f_G`` and ``f_L`` are each a temporal Conv (k3) to ``D_main`` + LeakyReLU(0.2)
+ Dropout(0.5) (public code, ``BWA_fusion_dropout_feat_v2``). On the pooled
length-1 sequence the k3 conv of ``f_G`` only uses its centre tap, so ``f_G`` is
a dense layer here. The average pool runs over real snippets only, and
padded snippets are zeros at the local conv (the video's own zero padding in
the public code), so padding never changes the real snippets' outputs.

Initialisation: ``weight_init="xavier"`` (the project's default) or
``"he_uniform"``, the public code's ``kaiming_uniform_`` (fan-in, gain
sqrt(2)) with zero biases. With ``he_uniform`` the dense ``f_G`` draws at
the scale of the public code's k3 conv (fan-in ``3 D``), of which it is the
centre tap.

An optional stage-0 embedding (``embed_dim > 0``) maps each modality to a
common width first; CO2-Net itself works on the raw 1024-d I3D streams.
The output is ``[X_rgb'; X_flow']`` with both streams in ``per_modality``.
"""

from __future__ import annotations

import flax.linen as nn
import jax

from wtal_jax import ops
from wtal_jax.models.fusion import base
from wtal_jax.models.masked_conv import MaskedTemporalConv
from wtal_jax.models import randomness


# The initialisations CCM knows: Xavier, or the public code's (see above).
CCM_INITS = ("xavier", "he_uniform")


class ConsensusRecalibration(nn.Module):
  """One direction of CCM: recalibrates ``main`` by ``aux``.

  Attributes:
    kernel_size: Temporal kernel of the local projection ``f_L``.
    negative_slope: LeakyReLU slope of both projections.
    dropout: Dropout rate of both projections.
    weight_init: ``"xavier"`` or ``"he_uniform"`` (see the module docstring).
  """

  kernel_size: int = 3
  negative_slope: float = 0.2
  dropout: float = 0.5
  weight_init: str = "xavier"

  @nn.compact
  def __call__(self, main_BxTxD: jax.Array, aux_BxTxE: jax.Array,
               mask_BxT: jax.Array, *, train: bool) -> jax.Array:
    d = main_BxTxD.shape[-1]
    drop = lambda y: randomness.Dropout(self.dropout, deterministic=not train)(y)
    act = lambda y: nn.leaky_relu(y, self.negative_slope)
    if self.weight_init not in CCM_INITS:
      raise ValueError(f"CCM's weight_init must be one of {CCM_INITS}, got "
                       f"{self.weight_init!r}.")
    if self.weight_init == "he_uniform":
      global_init = nn.initializers.variance_scaling(
          2.0 / self.kernel_size, "fan_in", "uniform")
    else:
      global_init = base.xavier
    pooled_BxD = ops.masked_mean_over_time(main_BxTxD, mask_BxT)
    global_BxD = drop(act(nn.Dense(d, kernel_init=global_init,
                                   name="global_fc")(pooled_BxD)))
    local_BxTxD = drop(act(MaskedTemporalConv(
        d, self.kernel_size, self.weight_init, name="local_conv")(aux_BxTxE,
                                                           mask_BxT)))
    return jax.nn.sigmoid(global_BxD[:, None, :] * local_BxTxD) * main_BxTxD


def options_from_config(cfg) -> dict:
  """CCM's settings from a fusion config (its ``ccm_*`` fields), as keyword
  arguments of :func:`recalibrate_both`."""
  return {"kernel_size": cfg.get("ccm_kernel_size", 3),
          "negative_slope": cfg.get("ccm_negative_slope", 0.2),
          "dropout": cfg.get("ccm_dropout", 0.5),
          "weight_init": cfg.get("ccm_weight_init", "xavier")}


def recalibrate_both(xm_BxTxD: jax.Array, xn_BxTxE: jax.Array,
                     mask_BxT: jax.Array, *, train: bool, kernel_size: int = 3,
                     negative_slope: float = 0.2, dropout: float = 0.5,
                     weight_init: str = "xavier"
                     ) -> tuple[jax.Array, jax.Array]:
  """CCM in both directions: each modality recalibrated by the other.

  Must be called inside a compact module (it creates the submodules
  ``recalibrate_0`` and ``recalibrate_1``), so that CCM has the same
  parameter names wherever it is used.
  """
  unit = lambda name: ConsensusRecalibration(
      kernel_size, negative_slope, dropout, weight_init, name=name)
  return (unit("recalibrate_0")(xm_BxTxD, xn_BxTxE, mask_BxT, train=train),
          unit("recalibrate_1")(xn_BxTxE, xm_BxTxD, mask_BxT, train=train))


@base.FUSIONS.register("ccm")
class CrossModalConsensus(nn.Module):
  """CCM fusion of two modalities, each recalibrated by the other.

  Attributes:
    embed_dim: Stage-0 embedding width (0: the raw features).
    negative_slope: LeakyReLU slope of the stage-0 embedding.
    kernel_size: Temporal kernel of the local projection.
    ccm_negative_slope: LeakyReLU slope inside CCM (0.2).
    dropout: Dropout inside CCM (0.5).
    weight_init: Initialisation inside CCM (``xavier`` or ``he_uniform``).
  """

  embed_dim: int = 0
  negative_slope: float = 0.01
  kernel_size: int = 3
  ccm_negative_slope: float = 0.2
  dropout: float = 0.5
  weight_init: str = "xavier"

  @classmethod
  def from_config(cls, cfg) -> "CrossModalConsensus":
    o = options_from_config(cfg)
    return cls(embed_dim=cfg.get("embed_dim", 0),
               negative_slope=cfg.get("negative_slope", 0.01),
               kernel_size=o["kernel_size"],
               ccm_negative_slope=o["negative_slope"],
               dropout=o["dropout"], weight_init=o["weight_init"])

  @nn.compact
  def __call__(self, xs, mask_BxT: jax.Array, *, train: bool
               ) -> base.FusionOutput:
    if len(xs) != 2:
      raise ValueError(f"ccm fuses exactly two modality groups, got {len(xs)}"
                       "; set config.data.modalities to two groups, e.g. "
                       "('rgb', 'flow').")
    xm, xn = base.embed_all(xs, self.embed_dim, self.negative_slope, mask_BxT)
    return base.fuse(recalibrate_both(
        xm, xn, mask_BxT, train=train, kernel_size=self.kernel_size,
        negative_slope=self.ccm_negative_slope, dropout=self.dropout,
        weight_init=self.weight_init))
