"""3C-Net's head (Narayan et al., ICCV 2019): per-stream classifiers with
learnable class multipliers, center loss and counting loss.

Architecture (public code), per modality stream m from
``fusion_out.per_modality``: ``num_fc`` layers Linear + ReLU of the stream's
width (two in 3C-Net), Dropout 0.7, a Linear classifier to C. The T-CAM is
``sum_m cls_m * mul_m`` with learnable per-class multipliers initialised at
1. With ``temporal_conv`` (ActivityNet in the public code) the T-CAM passes a
depthwise temporal Conv (kernel 13, dilation 2, no bias) and a ReLU. With LGCA
fusion the head keeps no FC (``num_fc = 0``): the fusion's embedding is the
first FC and LGCA replaces the second (LGCA §4.2).

Centers: the public code moves the class centers by SGD (lr 0.1) on the
unweighted center loss, separately from the network. Here they are
parameters under the model's optimizer, re-parameterised as ``s * theta``
(``s = center_lr_scale``) so that Adam moves them about ``s`` times faster
than the network weights; ``theta`` starts at ``N(0, 1) / s`` so the centers
start at ``N(0, 1)`` as there.

Counts: the counting loss needs each training video's number of instances per
class (from the ground-truth segments) as ``batch["counts"]`` ``(B, C)``,
which the input pipeline provides for every video (the default
``count_source="batch"`` fails clearly if a custom pipeline does not).
``count_source`` says what to do without it: ``"batch"`` fails with a clear
error; ``"batch_if_present"`` trains without the counting term (its weight
multiplies a zero-count term) and logs a warning once; ``"off"`` never uses it.

Test time: the T-CAM with W-TALC's two-stage thresholding (``wtalc``); the
video scores are ``softmax_c`` of the T-CAM's top-k mean (k = ceil(T/8)).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from absl import logging

from wtal_jax import ops
from wtal_jax.losses import threec as threec_losses
from wtal_jax.models import randomness
from wtal_jax.models.heads.base import (HEADS, HeadSpec, Localization,
                                        from_config_fields)

xavier = nn.initializers.xavier_uniform()
COUNT_SOURCES = ("batch", "batch_if_present", "off")


class _Stream(nn.Module):
  """``num_fc`` x (Linear + ReLU), dropout, classifier."""

  num_classes: int
  num_fc: int
  hidden_dim: int
  dropout: float

  @nn.compact
  def __call__(self, x, *, train: bool):
    width = self.hidden_dim or x.shape[-1]
    for i in range(self.num_fc):
      x = nn.relu(nn.Dense(width, kernel_init=xavier, name=f"fc{i}")(x))
    x = randomness.Dropout(self.dropout, deterministic=not train)(x)
    return x, nn.Dense(self.num_classes, kernel_init=xavier,
                       name="classifier")(x)


class ThreeCHead(nn.Module):
  """Per-stream classifiers, class multipliers and class centers.

  Attributes:
    num_classes: C action classes.
    num_fc: FC + ReLU layers per stream before the classifier.
    hidden_dim: Their width (0 = the stream's input width).
    dropout: Dropout before each classifier.
    temporal_conv: Apply the depthwise temporal Conv + ReLU to the T-CAM.
    center_lr_scale: Re-parameterisation factor of the centers.
  """

  num_classes: int
  num_fc: int = 2
  hidden_dim: int = 0
  dropout: float = 0.7
  temporal_conv: bool = False
  center_lr_scale: float = 100.0

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "ThreeCHead":
    return from_config_fields(cls, cfg, num_classes)

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    m = mask_BxT[..., None].astype(fusion_out.fused_BxTxF.dtype)
    feats, logits, centers = [], [], []
    tcam = 0.0
    s = self.center_lr_scale
    for i, x in enumerate(fusion_out.per_modality):
      f, cls = _Stream(self.num_classes, self.num_fc, self.hidden_dim,
                       self.dropout, name=f"stream_{i}")(x, train=train)
      mul = self.param(f"multiplier_{i}", nn.initializers.ones,
                       (self.num_classes,))
      theta = self.param(f"centers_{i}", nn.initializers.normal(1.0 / s),
                         (self.num_classes, f.shape[-1]))
      tcam = tcam + cls * mul
      feats.append(f)
      logits.append(cls)
      centers.append(s * theta)
    if self.temporal_conv:
      tcam = nn.relu(nn.Conv(
          self.num_classes, (13,), kernel_dilation=(2,), padding=((12, 12),),
          feature_group_count=self.num_classes, use_bias=False,
          kernel_init=xavier, name="tcam_conv")(tcam * m))
    return {"tcam_BxTxC": tcam,
            "stream_logits": tuple(logits),
            "stream_features": tuple(feats),
            # Broadcast so that every output has a leading batch axis.
            "centers": tuple(jnp.broadcast_to(c, m.shape[:1] + c.shape)
                             for c in centers)}


def _counts(batch, cfg):
  source = cfg.get("count_source", "batch_if_present")
  if source not in COUNT_SOURCES:
    raise ValueError(f"config.model.head.count_source must be one of "
                     f"{COUNT_SOURCES}, got {source!r}.")
  if source == "off":
    return None
  if "counts" in batch:
    return batch["counts"]
  if source == "batch":
    raise ValueError(
        "3C-Net's counting loss needs per-class instance counts, but the "
        "training batch has no 'counts' field (B, C). Have the input pipeline "
        "add them from each video's segment_labels, or set "
        "config.model.head.count_source='off'.")
  logging.warning("threec: the training batch has no 'counts'; training "
                  "without the counting loss (count_source=%r).", source)
  return None


def threec_loss(outputs, batch, cfg):
  mask, labels = batch["mask"], batch["labels"]
  k_div, min_len = cfg.get("topk_divisor", 8.0), cfg.get("min_snippets", 5)
  sequences = tuple(outputs["stream_logits"]) + (outputs["tcam_BxTxC"],)
  cls = [threec_losses.mil_loss(x, labels, mask, k_div, min_len)
         for x in sequences]
  terms = {"cls": (sum(s for s, _ in cls), cls[0][1])}
  for name, multi in (("center", False), ("center_multi", True)):
    parts = [threec_losses.center_loss(f, x, labels, mask, c[0], multi,
                                       cfg.get("center_form", "paper"))
             for f, x, c in zip(outputs["stream_features"],
                                outputs["stream_logits"], outputs["centers"])]
    terms[name] = (sum(s for s, _ in parts), parts[0][1])
  counts = _counts(batch, cfg)
  if counts is not None:
    terms["count"] = threec_losses.counting_loss(
        outputs["tcam_BxTxC"], counts, mask, cfg.get("count_neg_weight", 1e-3))
  else:
    terms["count"] = (jnp.float32(0.0), jnp.float32(0.0))
  return terms


def threec_predict(outputs, mask_BxT, cfg) -> Localization:
  tcam = outputs["tcam_BxTxC"]
  k_B = ops.topk_count(ops.num_valid(mask_BxT), cfg.get("topk_divisor", 8.0))
  scores = jax.nn.softmax(ops.masked_topk_mean(tcam, mask_BxT, k_B), -1)
  probs = jax.nn.softmax(tcam, axis=-1)
  attention = jax.nn.sigmoid(jnp.max(tcam, axis=-1))
  return Localization(
      cas_BxTxC=tcam, attention_BxT=attention, video_scores_BxC=scores,
      snippet_scores_BxTxC1=jnp.concatenate(
          [probs * attention[..., None], 1.0 - attention[..., None]], -1))


HEADS.register("threec")(HeadSpec(
    module=ThreeCHead, loss_fn=threec_loss, predict_fn=threec_predict,
    width_fields=("hidden_dim",),
    # The center loss is a squared distance summed over features.
    norm_constants=(("loss_weights.center", -1.0),
                    ("loss_weights.center_multi", -1.0))))
