"""W-TAL's uncertainty-modeling head (UM; Lee et al., AAAI 2021).

Architecture (public code): a temporal Conv (kernel 3) to 2048 channels with
ReLU gives the embedded features f_t; Dropout (0.7) and a bias-free Conv
(kernel 1) give the class activations over C action classes (no background
class: background is modelled as out-of-distribution through its uniform
class distribution and its small feature magnitude). Selection and losses are
in :mod:`wtal_jax.losses.um`.

Test time (UM's ``test.py``): the magnitude is min-max normalised between the
mean magnitudes of the selected background and action snippets, the CAS is
``minmax_t(softmax_c(cas) * magnitude)`` per class, and proposals come from
thresholds on both (``recipes/um.py``).

Reads ``fusion_out.fused_BxTxF``. Padded snippets are zeroed before the
temporal convolution, so a video's ends see the same zero padding as in the
public code whatever the batch's padding.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.losses import um as um_losses
from wtal_jax.models import inits, randomness
from wtal_jax.models.heads.base import (HEADS, HeadSpec, Localization,
                                        from_config_fields)


class UMHead(nn.Module):
  """CAS module with feature-magnitude selection.

  Attributes:
    num_classes: C action classes.
    hidden_dim: Width of the embedded features f_t (2048).
    dropout: Dropout before the classifier.
    selection_dropout: Rate at which selection candidates are dropped in
      training (uses the ``dropout`` RNG stream).
    r_act: Action selection ratio, ``k = floor(T / r_act)``.
    r_bkg: Background selection ratio.
    weight_init: ``xavier``, or ``pytorch`` (PyTorch's default draw of both
      convs, as the public code leaves them; :mod:`wtal_jax.models.inits`).
  """

  num_classes: int
  hidden_dim: int = 2048
  dropout: float = 0.7
  selection_dropout: float = 0.7
  r_act: float = 9.0
  r_bkg: float = 4.0
  weight_init: str = "xavier"

  @classmethod
  def from_config(cls, cfg, num_classes: int) -> "UMHead":
    return from_config_fields(cls, cfg, num_classes)

  @nn.compact
  def __call__(self, fusion_out, mask_BxT, *, train: bool):
    m = mask_BxT[..., None].astype(fusion_out.fused_BxTxF.dtype)
    x = fusion_out.fused_BxTxF * m
    feats = nn.relu(nn.Conv(
        self.hidden_dim, (3,), padding="SAME", name="conv",
        **inits.layer_inits(self.weight_init, 3 * x.shape[-1]))(x)) * m
    h = randomness.Dropout(self.dropout, deterministic=not train)(feats)
    cas = nn.Conv(self.num_classes, (1,), use_bias=False,
                  kernel_init=inits.kernel_init(self.weight_init),
                  name="classifier")(h)
    if train and self.selection_dropout > 0:
      keep = randomness.bernoulli(self.make_rng("dropout"),
                                  1.0 - self.selection_dropout, mask_BxT.shape)
    else:
      keep = jnp.ones(mask_BxT.shape, bool)
    out = um_losses.magnitude_selection(feats, cas, mask_BxT, keep,
                                        self.r_act, self.r_bkg)
    out["cas_BxTxC"] = cas
    return out


def um_loss(outputs, batch, cfg):
  return {
      "cls": um_losses.classification_loss(outputs["score_act_BxC"],
                                           batch["labels"]),
      "be": um_losses.background_entropy_loss(outputs["score_bkg_BxC"]),
      "um": um_losses.uncertainty_loss(outputs["feat_act_BxF"],
                                       outputs["feat_bkg_BxF"],
                                       cfg.get("margin", 100.0)),
  }


def um_predict(outputs, mask_BxT, cfg) -> Localization:
  del cfg
  magnitude = um_losses.minmax_normalize(
      outputs["magnitude_BxT"][..., None], mask_BxT,
      min_B=outputs["norm_bkg_B"], max_B=outputs["norm_act_B"])[..., 0]
  probs = jax.nn.softmax(outputs["cas_BxTxC"], axis=-1)
  cas = um_losses.minmax_normalize(probs * magnitude[..., None], mask_BxT)
  return Localization(
      cas_BxTxC=cas, attention_BxT=magnitude,
      video_scores_BxC=outputs["score_act_BxC"],
      snippet_scores_BxTxC1=jnp.concatenate(
          [probs * magnitude[..., None], 1.0 - magnitude[..., None]], -1))


HEADS.register("um")(HeadSpec(
    module=UMHead, loss_fn=um_loss, predict_fn=um_predict,
    width_fields=("hidden_dim",),
    # L_um = (max(0, m - |f_act|) + |f_bkg|)^2 on feature norms.
    norm_constants=(("margin", 0.5), ("loss_weights.um", -1.0))))
