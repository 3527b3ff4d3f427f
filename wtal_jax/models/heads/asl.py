"""Action selection learning head (ASL; Ma et al., CVPR 2021).

Architecture (public code): the classifier is Conv k1 (fused features ->
512), ReLU, Conv k1 -> C on the fused features; each modality stream has its
own class-agnostic actionness head, Conv k1 (-> 512), ReLU, Conv k1 -> 1,
sigmoid. The streams come from ``fusion_out.per_modality`` (RGB and flow in
the paper; any number M here). Selection and losses are in
:mod:`wtal_jax.losses.asl`.

Test time: the CAS is the combined score ``(softmax_c(cas) + sum_m a_m) /
(1 + M)``, video scores are ``softmax_c`` of the class logits averaged over
each class's top-k of that score (k = floor(T/8)), and the ``asl`` recipe
thresholds the CAS.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.losses import asl as asl_losses
from wtal_jax.models import inits
from wtal_jax.models.heads.base import (HEADS, HeadSpec, Localization,
                                        from_config_fields)


class _MLP(nn.Module):
  """Two point-wise layers with a ReLU between."""

  hidden: int
  out: int
  init: str

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Dense(self.hidden, name="fc1",
                         **inits.layer_inits(self.init, x.shape[-1]))(x))
    return nn.Dense(self.out, name="fc2",
                    **inits.layer_inits(self.init, self.hidden))(x)


class ASLHead(nn.Module):
  """Classifier on fused features plus one actionness head per modality.

  Attributes:
    num_classes: C action classes.
    hidden_dim: Classifier hidden width (512).
    actionness_dim: Actionness hidden width (512).
    weight_init: ``xavier``, or ``pytorch`` (PyTorch's default draw of every
      layer, as the public code leaves them; :mod:`wtal_jax.models.inits`).
  """

  num_classes: int
  hidden_dim: int = 512
  actionness_dim: int = 512
  weight_init: str = "xavier"

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "ASLHead":
    return from_config_fields(cls, cfg, num_classes)

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    del train  # ASL has no stochastic layers.
    cas = _MLP(self.hidden_dim, self.num_classes, self.weight_init,
               name="classifier")(
        fusion_out.fused_BxTxF)
    actionness = [
        jax.nn.sigmoid(_MLP(self.actionness_dim, 1, self.weight_init,
                            name=f"actionness_{i}")(x))
        for i, x in enumerate(fusion_out.per_modality)]
    return {"cas_BxTxC": cas,
            "actionness_BxTxM": jnp.concatenate(actionness, axis=-1)}


def asl_loss(outputs, batch, cfg):
  cas, act, mask = (outputs["cas_BxTxC"], outputs["actionness_BxTxM"],
                    batch["mask"])
  sel = asl_losses.selection(cas, act, mask, cfg.get("k_divisor", 8.0))
  return {
      "cls": asl_losses.classification_loss(cas, sel, batch["labels"]),
      "asl": asl_losses.action_selection_loss(act, sel, batch["labels"], mask,
                                              cfg.get("q", 0.7)),
  }


def asl_predict(outputs, mask_BxT, cfg) -> Localization:
  cas, act = outputs["cas_BxTxC"], outputs["actionness_BxTxM"]
  sel = asl_losses.selection(cas, act, mask_BxT, cfg.get("k_divisor", 8.0))
  attention = jnp.mean(act, axis=-1)
  probs = jax.nn.softmax(cas, axis=-1)
  return Localization(
      cas_BxTxC=asl_losses.combined_score(cas, act),
      attention_BxT=attention,
      video_scores_BxC=jax.nn.softmax(asl_losses.video_logits(cas, sel), -1),
      snippet_scores_BxTxC1=jnp.concatenate(
          [probs * attention[..., None], 1.0 - attention[..., None]], -1))


HEADS.register("asl")(HeadSpec(
    module=ASLHead, loss_fn=asl_loss, predict_fn=asl_predict,
    width_fields=("hidden_dim", "actionness_dim")))
