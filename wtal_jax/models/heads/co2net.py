"""CO2-Net's head: modal-specific attention units, mutual learning and a
fused classifier (Hong et al., ACM MM 2021; public ``model.py``, ``CO2``).

On a :class:`~wtal_jax.models.fusion.base.FusionOutput`:

* one attention unit per stream of ``per_modality`` (with the ``ccm`` fusion,
  the CCM-recalibrated RGB and flow): Conv k3 to 512 + LeakyReLU(0.2) +
  Dropout(0.5), Conv k3 512 -> 512 + LeakyReLU(0.2), Conv k1 to 1,
  Dropout(0.5), sigmoid. The final attention is the mean of the units';
* the fused features ``fused_BxTxF`` go through a Conv k1 (F -> F) +
  LeakyReLU(0.2) + Dropout(0.7), the feature the CASL sees;
* the classifier: Dropout(0.7), Conv k3 to ``hidden_dim`` + LeakyReLU(0.2),
  Dropout(0.7), Conv k1 to C + 1 logits, background last;
* ActivityNet only: CAS and attentions average-pooled over time.

CCM itself is the ``ccm`` fusion (the CO2-Net configs use it); with another
fusion the head runs on whatever streams that fusion hands over, one unit per
stream (one stream: no mutual loss). Padded snippets are zeros at every
temporal convolution. Initialisation follows the public code (``weight_init =
"he_uniform"``: PyTorch's ``kaiming_uniform_``, zero biases); ``"xavier"`` is
the project's convention elsewhere.

Training (``recipes/co2net.py``): every sequence holds exactly ``L``
snippets (``uniform_stretch`` sampling), so the top-k is always ``L // 7``;
the CASL runs on the sampler's first ``casl_pairs`` same-class pairs and is
normalised by their number of shared classes.

Test time (``proposal_methods.multiple_threshold_hamnet``): class scores are
the soft-max of the top-k (``T // 10``) video logits of ``cas * att``, the
background dropped; post-processing thresholds the attention.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.losses import co2net as co2_losses
from wtal_jax.losses import hamnet as hamnet_losses
from wtal_jax.losses.casl import casl
from wtal_jax.models.heads.base import (HEADS, HeadSpec, Localization,
                                        from_config_fields)
from wtal_jax.models.masked_conv import MaskedTemporalConv, masked_avg_pool
from wtal_jax.models import randomness


class AttentionUnit(nn.Module):
  """A modal-specific attention unit; returns ``(B, T)`` in [0, 1]."""

  dim: int = 512
  dropout: float = 0.5
  negative_slope: float = 0.2
  weight_init: str = "he_uniform"

  @nn.compact
  def __call__(self, x_BxTxD, mask_BxT, *, train: bool):
    drop = lambda y: randomness.Dropout(self.dropout, deterministic=not train)(y)
    act = lambda y: nn.leaky_relu(y, self.negative_slope)
    conv = lambda n, k, name: MaskedTemporalConv(
        n, k, self.weight_init, name=name)
    h = drop(act(conv(self.dim, 3, "conv1")(x_BxTxD, mask_BxT)))
    h = act(conv(self.dim, 3, "conv2")(h, mask_BxT))
    logit = drop(conv(1, 1, "out")(h, mask_BxT))
    return jax.nn.sigmoid(logit)[..., 0]


class CO2NetHead(nn.Module):
  """Dual (per-stream) attention units and a fused classifier.

  Attributes:
    num_classes: C action classes (the head predicts C + 1).
    hidden_dim: Width of the classifier's k3 conv (0: the fused width).
    attention_dim: Width of the attention units.
    dropout: ``dropout_ratio`` of the fusion conv and classifier.
    attention_dropout: Dropout inside the attention units.
    negative_slope: LeakyReLU slope.
    pool_kernel: Temporal average pool of CAS and attentions (1: none).
    weight_init: Conv kernel initialisation, ``he_uniform`` or ``xavier``.
  """

  num_classes: int
  hidden_dim: int = 0
  attention_dim: int = 512
  dropout: float = 0.7
  attention_dropout: float = 0.5
  negative_slope: float = 0.2
  pool_kernel: int = 1
  weight_init: str = "he_uniform"

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "CO2NetHead":
    return from_config_fields(cls, cfg, num_classes)

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    drop = lambda y: randomness.Dropout(self.dropout, deterministic=not train)(y)
    act = lambda y: nn.leaky_relu(y, self.negative_slope)
    conv = lambda n, k, name: MaskedTemporalConv(
        n, k, self.weight_init, name=name)
    atts = [AttentionUnit(self.attention_dim, self.attention_dropout,
                          self.negative_slope, self.weight_init,
                          name=f"attention_{i}")(x, mask_BxT, train=train)
            for i, x in enumerate(fusion_out.per_modality)]
    atts_BxTxM = jnp.stack(atts, axis=-1)

    x = fusion_out.fused_BxTxF
    feat = drop(act(conv(x.shape[-1], 1, "fusion")(x, mask_BxT)))
    h = act(conv(self.hidden_dim or x.shape[-1], 3, "cls_conv")(
        drop(feat), mask_BxT))
    cas = conv(self.num_classes + 1, 1, "cls_out")(drop(h), mask_BxT)

    cas = masked_avg_pool(cas, mask_BxT, self.pool_kernel)
    atts_BxTxM = masked_avg_pool(atts_BxTxM, mask_BxT, self.pool_kernel)
    return {"cas_BxTxC1": cas, "attentions_BxTxM": atts_BxTxM,
            "attention_BxT": jnp.mean(atts_BxTxM, -1),
            "features_BxTxF": feat}


def co2net_loss(outputs, batch, cfg):
  cas, att = outputs["cas_BxTxC1"], outputs["attention_BxT"]
  atts = outputs["attentions_BxTxM"]
  mask, labels = batch["mask"], batch["labels"]
  terms = co2_losses.mil_losses(cas, att, labels, mask,
                                cfg.topk_divisor)
  # CASL on the suppressed logits; the background column (label 0 in the
  # public code) never counts, so only the action columns are passed.
  terms["casl"] = casl(
      outputs["features_BxTxF"],
      co2_losses.suppressed_logits(cas, att)[..., :-1], labels, mask,
      cfg.casl_margin, pairs_P=_casl_pairs(batch, cfg.casl_pairs),
      normalize=cfg.casl_normalize)
  terms["mutual"] = co2_losses.mutual_loss(atts, mask)
  terms["oppo"] = co2_losses.opposite_loss(atts, att, cas, mask)
  terms["norm"] = co2_losses.norm_loss(atts, att, mask)
  return terms


def _casl_pairs(batch, num_pairs: int):
  """The local pairs ``(2p, 2p+1)`` among the batch's first ``num_pairs``
  global pairs (``None``: every pair)."""
  if not num_pairs:
    return None
  slot_B = batch.get("slot")
  if slot_B is None:
    slot_B = jnp.arange(batch["mask"].shape[0])
  return slot_B[0::2] < 2 * num_pairs


def co2net_predict(outputs, mask_BxT, cfg) -> Localization:
  cas, att = outputs["cas_BxTxC1"], outputs["attention_BxT"]
  divisor = cfg.test_topk_divisor
  return Localization(
      cas_BxTxC=cas[..., :-1],
      attention_BxT=att,
      video_scores_BxC=hamnet_losses.attention_video_scores(
          cas, att, mask_BxT, divisor),
      snippet_scores_BxTxC1=jax.nn.softmax(cas, -1))


HEADS.register("co2net")(HeadSpec(
    module=CO2NetHead, loss_fn=co2net_loss, predict_fn=co2net_predict,
    width_fields=("hidden_dim", "attention_dim")))

__all__ = ["AttentionUnit", "CO2NetHead", "co2net_loss", "co2net_predict"]
