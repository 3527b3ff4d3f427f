"""3C-Net's losses (Narayan et al., ICCV 2019): classification, center and
counting.

* ``cls``: for each stream's class logits and for the T-CAM, W-TALC's MIL
  cross-entropy of ``softmax_c(top-k mean_t)`` (``k = ceil(T/8)``) against
  ``y / sum(y)``; videos shorter than ``min_snippets`` or without labels are
  skipped, as in the public code. Summed over the logit sequences.
* ``center``: per video and ground-truth class c, the features are pooled
  with the temporal softmax of the class logits, zeroed below its mean
  (``1/T``); the squared distance of the pooled feature to class c's center
  is averaged over (video, class) items; summed over streams. The public
  code's form (``form="public_code"``, an option) multiplies each distance
  by the class's index and divides the mean by the number of items again.
* ``count``: the predicted count of class c is ``sum_t tcam[t, c] *
  softmax_t(tcam[:, c])``. Present classes (``0 < n_c < T``) pay the relative
  error ``|pred - n_c| / n_c``; the others pay ``neg_weight * |pred|``.

All functions honour the mask and return ``(sum, count)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wtal_jax import ops

# Forms of the center loss: the paper's mean squared distance, or the public
# code's (each distance times its class index, the mean divided again by the
# number of items).
CENTER_FORMS = ("paper", "public_code")


def _valid_videos(labels_BxC, mask_BxT, min_snippets):
  return (ops.num_valid(mask_BxT) >= min_snippets) & (
      jnp.sum(labels_BxC, -1) > 0)


def mil_loss(logits_BxTxC, labels_BxC, mask_BxT, topk_divisor: float = 8.0,
             min_snippets: int = 5):
  """W-TALC's MIL loss on one logit sequence."""
  k_B = ops.topk_count(ops.num_valid(mask_BxT), topk_divisor)
  logp = jax.nn.log_softmax(
      ops.masked_topk_mean(logits_BxTxC, mask_BxT, k_B), axis=-1)
  target = labels_BxC / jnp.maximum(jnp.sum(labels_BxC, -1, keepdims=True),
                                    1e-8)
  valid = _valid_videos(labels_BxC, mask_BxT, min_snippets)
  per_video = -jnp.sum(target * logp, axis=-1)
  return (jnp.sum(jnp.where(valid, per_video, 0.0)),
          jnp.sum(valid.astype(jnp.float32)))


def class_pooled_features(features_BxTxF, logits_BxTxC, mask_BxT):
  """Per class, features pooled by the thresholded temporal softmax.

  Returns:
    ``(B, C, F)`` pooled features.
  """
  atn = ops.masked_softmax(logits_BxTxC, mask_BxT[..., None], axis=1)
  mean = 1.0 / jnp.maximum(ops.num_valid(mask_BxT), 1.0)
  w = jnp.where(atn >= mean[:, None, None], atn, 0.0)
  w = jnp.where(mask_BxT[..., None], w, 0.0)
  pooled = jnp.einsum("btc,btf->bcf", w, features_BxTxF)
  return pooled / jnp.maximum(jnp.sum(w, axis=1), 1e-12)[..., None]


def center_loss(features_BxTxF, logits_BxTxC, labels_BxC, mask_BxT,
                centers_CxF, multi_label: bool = False, form: str = "paper"):
  """Squared distance of class-pooled features to their class centers.

  Args:
    features_BxTxF: A stream's features.
    logits_BxTxC: The same stream's class logits.
    labels_BxC: Multi-hot labels.
    mask_BxT: Real snippets.
    centers_CxF: One center per class.
    multi_label: Take the items of multi-label videos (True) or of
      single-label videos (False). The public code uses only single-label
      videos for its first 5000 iterations; the two kinds are separate loss
      terms so that a ``loss_delay`` can reproduce that.
    form: ``"paper"``, or ``"public_code"``: its ``CenterLoss`` multiplies
      each squared distance by the class's index (so class 0 never pays)
      and its ``CENTERLOSS`` divides that mean by the number of items once
      more; the sum returned is then divided by the number of items.

  Returns:
    ``(sum of squared distances, number of (video, class) items)``.
  """
  if form not in CENTER_FORMS:
    raise ValueError(f"center loss form must be one of {CENTER_FORMS}, got "
                     f"{form!r}.")
  pooled = class_pooled_features(features_BxTxF, logits_BxTxC, mask_BxT)
  dist_BxC = jnp.clip(jnp.sum(jnp.square(pooled - centers_CxF[None]), -1),
                      1e-12, 1e12)
  n_labels = jnp.sum(labels_BxC > 0, -1)
  kind = (n_labels > 1) if multi_label else (n_labels == 1)
  items = (labels_BxC > 0) & kind[:, None] & (
      ops.num_valid(mask_BxT) > 0)[:, None]
  count = jnp.sum(items.astype(jnp.float32))
  if form == "public_code":
    index_C = jnp.arange(dist_BxC.shape[-1], dtype=dist_BxC.dtype)
    total = jnp.sum(jnp.where(items, dist_BxC * index_C, 0.0))
    return total / jnp.maximum(count, 1.0), count
  return jnp.sum(jnp.where(items, dist_BxC, 0.0)), count


def predicted_counts(tcam_BxTxC, mask_BxT):
  """``sum_t tcam[t, c] * softmax_t(tcam[:, c])`` over real snippets."""
  atn = ops.masked_softmax(tcam_BxTxC, mask_BxT[..., None], axis=1)
  return jnp.sum(jnp.where(mask_BxT[..., None], tcam_BxTxC * atn, 0.0), 1)


def counting_loss(tcam_BxTxC, counts_BxC, mask_BxT, neg_weight: float = 1e-3):
  """Relative L1 on the counts of present classes, a small L1 on the rest."""
  pred = predicted_counts(tcam_BxTxC, mask_BxT)
  n_B = ops.num_valid(mask_BxT)
  pos = (counts_BxC > 0) & (counts_BxC < n_B[:, None])
  rel = jnp.abs(pred - counts_BxC) / jnp.where(pos, counts_BxC, 1.0)
  per_video = jnp.sum(jnp.where(pos, rel, neg_weight * jnp.abs(pred)), -1)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])
