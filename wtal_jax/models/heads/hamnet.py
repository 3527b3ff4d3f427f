"""HAM-Net's head: a classification branch and a hybrid-attention branch
(Islam et al., AAAI 2021).

Architecture (public code, ``system_th.py``), on ``fusion_out.fused_BxTxF``:

* classification branch: temporal Conv k3 to ``hidden_dim`` + LeakyReLU(0.2),
  twice, Dropout (0.7 THUMOS14, 0.5 ActivityNet) and a Conv k1 to C + 1
  logits, background **last**;
* attention branch: Conv k3 to 512 + LeakyReLU(0.2), Conv k3 512 -> 512 +
  LeakyReLU(0.2), Conv k1 to 1 and a sigmoid;
* ActivityNet only: both outputs average-pooled over time (kernel 17).

Padded snippets are zeros at every temporal convolution, as a video's ends
are in the public code. Initialisation follows the public code
(``weight_init="he_uniform"``: ``kaiming_uniform_`` on every conv, zero
biases); ``"xavier"`` is the project's convention elsewhere.

Losses are in :mod:`wtal_jax.losses.hamnet`. Test time (``tester.py``): class
scores are the soft-max of the top-k video logits of ``cas * att`` (the
background dropped); post-processing (the ``hamnet`` recipe) thresholds the
attention and scores proposals on the raw CAS times the attention.
"""

from __future__ import annotations

import flax.linen as nn
import jax

from wtal_jax.losses import hamnet as hamnet_losses
from wtal_jax.models.heads.base import (HEADS, HeadSpec, Localization,
                                        from_config_fields)
from wtal_jax.models.masked_conv import MaskedTemporalConv, masked_avg_pool
from wtal_jax.models import randomness


class HAMNetHead(nn.Module):
  """Classification and soft-attention branches.

  Attributes:
    num_classes: C action classes (the head predicts C + 1).
    hidden_dim: Width of the classification convs (0: the input width).
    attention_dim: Width of the attention convs.
    dropout: Dropout before the classifier's last layer.
    negative_slope: LeakyReLU slope.
    pool_kernel: Temporal average pool of both outputs (1: none).
    weight_init: Conv kernel initialisation, ``he_uniform`` or ``xavier``.
  """

  num_classes: int
  hidden_dim: int = 0
  attention_dim: int = 512
  dropout: float = 0.7
  negative_slope: float = 0.2
  pool_kernel: int = 1
  weight_init: str = "he_uniform"

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "HAMNetHead":
    return from_config_fields(cls, cfg, num_classes)

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    x = fusion_out.fused_BxTxF
    act = lambda y: nn.leaky_relu(y, self.negative_slope)
    hidden = self.hidden_dim or x.shape[-1]
    conv = lambda n, k, name: MaskedTemporalConv(
        n, k, self.weight_init, name=name)

    h = act(conv(hidden, 3, "cls_conv1")(x, mask_BxT))
    h = act(conv(hidden, 3, "cls_conv2")(h, mask_BxT))
    h = randomness.Dropout(self.dropout, deterministic=not train)(h)
    cas = conv(self.num_classes + 1, 1, "cls_out")(h, mask_BxT)

    a = act(conv(self.attention_dim, 3, "att_conv1")(x, mask_BxT))
    a = act(conv(self.attention_dim, 3, "att_conv2")(a, mask_BxT))
    att = jax.nn.sigmoid(conv(1, 1, "att_out")(a, mask_BxT))

    cas = masked_avg_pool(cas, mask_BxT, self.pool_kernel)
    att = masked_avg_pool(att, mask_BxT, self.pool_kernel)
    return {"cas_BxTxC1": cas, "attention_BxT": att[..., 0]}


def hamnet_loss(outputs, batch, cfg):
  return hamnet_losses.hamnet_losses(
      outputs["cas_BxTxC1"], outputs["attention_BxT"], batch["labels"],
      batch["mask"], topk_divisor=cfg.topk_divisor,
      drop_threshold=cfg.drop_threshold, drop=cfg.drop,
      drop_include_min=cfg.drop_include_min,
      drop_from_min=cfg.get("drop_from_min", False))


def hamnet_predict(outputs, mask_BxT, cfg) -> Localization:
  cas, att = outputs["cas_BxTxC1"], outputs["attention_BxT"]
  divisor = cfg.get("test_topk_divisor", cfg.topk_divisor)
  return Localization(
      cas_BxTxC=cas[..., :-1],
      attention_BxT=att,
      video_scores_BxC=hamnet_losses.attention_video_scores(
          cas, att, mask_BxT, divisor),
      snippet_scores_BxTxC1=jax.nn.softmax(cas, -1))


HEADS.register("hamnet")(HeadSpec(
    module=HAMNetHead, loss_fn=hamnet_loss, predict_fn=hamnet_predict,
    width_fields=("hidden_dim", "attention_dim")))

__all__ = ["HAMNetHead", "hamnet_loss", "hamnet_predict"]
