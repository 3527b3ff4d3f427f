"""Action selection learning (ASL; Ma et al., CVPR 2021): selection and losses.

A class-agnostic actionness head per modality learns which snippets the
classifier *selects*. Per class c the selection is the top
``k = floor(T / k_divisor)`` snippets of the combined score

  s[t, c] = (softmax_c(cas)[t, c] + sum_m a_m[t]) / (1 + M),

computed on stopped gradients (the public code's ``instance_selection_
function`` on detached inputs). Losses, each ``(sum over videos, videos)``:

* ``cls``: cross-entropy of ``softmax_c(mean of cas over the selection of c)``
  against ``y / sum(y)``;
* ``asl``: for every actionness head, generalized cross-entropy (GCE, q = 0.7)
  against the pseudo label "selected for some ground-truth class", averaged
  separately over positive and negative snippets and summed; summed over the
  heads.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wtal_jax import ops
from wtal_jax.losses.selection import masked_mean_of_selected, topk_mask

_EPS = 1e-7


def combined_score(cas_BxTxC: jax.Array, actionness_BxTxM: jax.Array
                   ) -> jax.Array:
  """``(softmax_c(cas) + sum_m a_m) / (1 + M)``: ASL's test-time CAS and its
  selection score."""
  m = actionness_BxTxM.shape[-1]
  probs = jax.nn.softmax(cas_BxTxC, axis=-1)
  return (probs + jnp.sum(actionness_BxTxM, -1, keepdims=True)) / (1.0 + m)


def selection(cas_BxTxC, actionness_BxTxM, mask_BxT, k_divisor: float = 8.0):
  """The per-class top-k selection (boolean ``(B, T, C)``) on stopped
  gradients."""
  score = combined_score(jax.lax.stop_gradient(cas_BxTxC),
                         jax.lax.stop_gradient(actionness_BxTxM))
  k_B = ops.topk_count(ops.num_valid(mask_BxT), k_divisor, rounding="floor")
  return topk_mask(score, mask_BxT, k_B)


def video_logits(cas_BxTxC, sel_BxTxC):
  """Mean of each class's activations over its selected snippets."""
  return masked_mean_of_selected(cas_BxTxC, sel_BxTxC)


def classification_loss(cas_BxTxC, sel_BxTxC, labels_BxC):
  """Cross-entropy of the selected-snippet video logits against y/sum(y)."""
  logp = jax.nn.log_softmax(video_logits(cas_BxTxC, sel_BxTxC), axis=-1)
  target = labels_BxC / jnp.maximum(jnp.sum(labels_BxC, -1, keepdims=True),
                                    1e-8)
  per_video = -jnp.sum(target * logp, axis=-1)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def pseudo_labels(sel_BxTxC, labels_BxC):
  """1 where a snippet is selected for at least one ground-truth class."""
  return jnp.any(sel_BxTxC & (labels_BxC[:, None, :] > 0), axis=-1)


def gce(a_BxT, target_BxT, mask_BxT, q: float = 0.7):
  """Balanced generalized cross-entropy of one actionness sequence, per video.

  ``mean_pos (1 - a^q)/q + mean_neg (1 - (1 - a)^q)/q`` over real snippets.
  """
  pos = (target_BxT & mask_BxT).astype(a_BxT.dtype)
  neg = (~target_BxT & mask_BxT).astype(a_BxT.dtype)
  l_pos = (1.0 - jnp.power(a_BxT + _EPS, q)) / q
  l_neg = (1.0 - jnp.power(1.0 - a_BxT + _EPS, q)) / q
  return (jnp.sum(l_pos * pos, -1) / (jnp.sum(pos, -1) + _EPS)
          + jnp.sum(l_neg * neg, -1) / (jnp.sum(neg, -1) + _EPS))


def action_selection_loss(actionness_BxTxM, sel_BxTxC, labels_BxC, mask_BxT,
                          q: float = 0.7):
  """GCE of every actionness head against the selection pseudo labels."""
  target = jax.lax.stop_gradient(pseudo_labels(sel_BxTxC, labels_BxC))
  per_video = sum(gce(actionness_BxTxM[..., i], target, mask_BxT, q)
                  for i in range(actionness_BxTxM.shape[-1]))
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])
