"""CAAV's localization head: the open-max classifier (CAAV §3.2).

Per snippet, an action FC gives ``h`` and ``p_ac = softmax(h)``, a foreground
FC gives the reliability ``mu = sigmoid(.)``, and the open-max output is
``p = [1 - mu, mu * p_ac]`` with the background at index 0. Dropout (0.7) is
applied to the fused features first. The ``softmax`` variant (CAAV Table 2,
S-I) replaces both FCs by one FC over C + 1 classes; its foreground score is
``1 - p_bg`` and it has no foreground continuity loss.

The class activation sequence handed to the post-processing is the log of the
open-max action probabilities, ``log p[:, 1:] = log mu + log softmax(h)``
(``cas = "log_prob"``, the default): W-TALC's two-stage thresholding, which
CAAV follows, thresholds class activations on the logit scale, and on the
probability scale (``cas = "prob"``) its one threshold at half of each
video's range keeps only the peaks of a confident model (docs/method_notes.md,
CAAV head).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.losses import caav as caav_losses
from wtal_jax.losses.casl import casl
from wtal_jax.models.heads.base import HEADS, HeadSpec, Localization
from wtal_jax.models import randomness

CLASSIFIERS = ("openmax", "softmax")
CAS_SCALES = ("log_prob", "prob")


class CAAVHead(nn.Module):
  """Open-max (or soft-max) snippet classifier.

  Attributes:
    num_classes: C action classes.
    classifier: ``openmax`` or ``softmax``.
    dropout: Dropout rate on the fused features.
  """

  num_classes: int
  classifier: str = "openmax"
  dropout: float = 0.7

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "CAAVHead":
    return cls(num_classes=num_classes,
               classifier=cfg.get("classifier", "openmax"),
               dropout=cfg.get("dropout", 0.7))

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    if self.classifier not in CLASSIFIERS:
      raise ValueError(f"classifier must be one of {CLASSIFIERS}, got "
                       f"{self.classifier!r}.")
    x = randomness.Dropout(self.dropout, deterministic=not train)(
        fusion_out.fused_BxTxF)
    init = nn.initializers.xavier_uniform()
    if self.classifier == "openmax":
      h = nn.Dense(self.num_classes, kernel_init=init, name="action_fc")(x)
      fg_logit = nn.Dense(1, kernel_init=init, name="foreground_fc")(x)[..., 0]
      fg = jax.nn.sigmoid(fg_logit)
      probs = jnp.concatenate(
          [1.0 - fg[..., None], fg[..., None] * jax.nn.softmax(h, -1)], -1)
      # From the logits, so that a saturated mu or softmax stays finite.
      log_probs = jnp.concatenate(
          [jax.nn.log_sigmoid(-fg_logit)[..., None],
           jax.nn.log_sigmoid(fg_logit)[..., None]
           + jax.nn.log_softmax(h, -1)], -1)
    else:
      logits = nn.Dense(self.num_classes + 1, kernel_init=init,
                        name="classifier_fc")(x)
      probs = jax.nn.softmax(logits, -1)
      log_probs = jax.nn.log_softmax(logits, -1)
      fg = 1.0 - probs[..., 0]
    return {"probs_BxTxC1": probs, "log_probs_BxTxC1": log_probs,
            "fg_BxT": fg, "features_BxTxF": x}


def caav_loss(outputs, batch, cfg):
  p, fg, mask = outputs["probs_BxTxC1"], outputs["fg_BxT"], batch["mask"]
  labels = batch["labels"]
  terms = {
      "mil": caav_losses.mil_loss(p, labels, mask,
                                  cfg.get("topk_divisor", 8.0),
                                  cfg.get("mil_background", True)),
      "pseu": caav_losses.pseudo_localization_loss(
          p, mask, cfg.get("pseudo_window", 5), cfg.get("pseudo_threshold", 0.5)),
  }
  if cfg.get("classifier", "openmax") == "openmax":
    terms["cont"] = caav_losses.continuity_loss(
        p, fg, labels, mask, cfg.get("cont_window", 5),
        cfg.get("cont_sigma", 1.0))
  # Attention from log-probabilities: softmax_t(log p_c) = p_c / sum_t p_c.
  terms["casl"] = casl(outputs["features_BxTxF"],
                       jnp.log(p[..., 1:] + 1e-8), labels, mask,
                       cfg.get("casl_margin", 0.5))
  return terms


def caav_predict(outputs, mask_BxT, cfg) -> Localization:
  p = outputs["probs_BxTxC1"]
  scale = cfg.get("cas", "log_prob")
  if scale not in CAS_SCALES:
    raise ValueError(f"model.head.cas must be one of {CAS_SCALES}, got "
                     f"{scale!r}.")
  cas = (outputs["log_probs_BxTxC1"] if scale == "log_prob" else p)[..., 1:]
  return Localization(
      cas_BxTxC=cas,
      attention_BxT=outputs["fg_BxT"],
      video_scores_BxC=caav_losses.mil_video_scores(
          p, mask_BxT, cfg.get("topk_divisor", 8.0)),
      snippet_scores_BxTxC1=jnp.concatenate([p[..., 1:], p[..., :1]], -1))


HEADS.register("caav")(HeadSpec(
    module=CAAVHead, loss_fn=caav_loss, predict_fn=caav_predict))
