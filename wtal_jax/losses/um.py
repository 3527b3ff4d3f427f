"""W-TAL uncertainty modeling (UM, Lee et al., AAAI 2021): selection and losses.

Snippets are selected by their feature magnitude ``||f_t||``: the top
``k_act = floor(T / r_act)`` as pseudo action and the top ``k_bkg =
floor(T / r_bkg)`` by ``max_t ||f_t|| - ||f_t||`` as pseudo background. During
training the candidates are thinned by a dropout mask (a dropped snippet's
score is 0, so it ranks last), as in the public code. The losses are

* ``cls``: binary cross-entropy between the action score ``softmax_c(top-k_act
  mean_t cas)`` and ``y / sum(y)``, averaged over classes;
* ``be``: background entropy, binary cross-entropy between the background
  score ``softmax_c(mean over background snippets of cas)`` and the uniform
  ``1 / C``;
* ``um``: ``(max(0, m - ||mean f_act||) + ||mean f_bkg||)^2`` with margin m.

Each returns ``(sum over videos, number of videos)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wtal_jax import ops
from wtal_jax.losses.selection import masked_mean_of_selected, topk_mask


def magnitude_selection(features_BxTxF: jax.Array, cas_BxTxC: jax.Array,
                        mask_BxT: jax.Array, keep_BxT: jax.Array,
                        r_act: float = 9.0, r_bkg: float = 4.0
                        ) -> dict[str, jax.Array]:
  """Action/background selection by feature magnitude and the video scores.

  Args:
    features_BxTxF: The embedded snippet features f_t.
    cas_BxTxC: Class activation logits.
    mask_BxT: Real snippets.
    keep_BxT: Candidates that survive the selection dropout (all True at
      evaluation).
    r_act: ``k_act = max(1, floor(T_valid / r_act))``.
    r_bkg: ``k_bkg = max(1, floor(T_valid / r_bkg))``.

  Returns:
    ``score_act_BxC``, ``score_bkg_BxC`` (soft-maxed over classes),
    ``feat_act_BxF``, ``feat_bkg_BxF`` (means of the selected features),
    ``norm_act_B``, ``norm_bkg_B`` (means of the selected magnitudes, used to
    normalise the magnitude at test time) and ``magnitude_BxT``.
  """
  n_B = ops.num_valid(mask_BxT)
  k_act = ops.topk_count(n_B, r_act, rounding="floor")
  k_bkg = ops.topk_count(n_B, r_bkg, rounding="floor")
  mag_BxT = ops.safe_norm(features_BxTxF, axis=-1)
  mag_sg = jax.lax.stop_gradient(mag_BxT)
  keep = keep_BxT.astype(mag_sg.dtype)
  top = jnp.max(jnp.where(mask_BxT, mag_sg, 0.0), axis=1, keepdims=True)
  sel_act = topk_mask((mag_sg * keep)[..., None], mask_BxT, k_act)
  sel_bkg = topk_mask(((top - mag_sg) * keep)[..., None], mask_BxT, k_bkg)
  score_act = ops.masked_topk_mean(cas_BxTxC, mask_BxT, k_act)
  score_bkg = masked_mean_of_selected(cas_BxTxC, sel_bkg)
  return {
      "score_act_BxC": jax.nn.softmax(score_act, axis=-1),
      "score_bkg_BxC": jax.nn.softmax(score_bkg, axis=-1),
      "feat_act_BxF": masked_mean_of_selected(features_BxTxF, sel_act),
      "feat_bkg_BxF": masked_mean_of_selected(features_BxTxF, sel_bkg),
      "norm_act_B": masked_mean_of_selected(mag_BxT[..., None], sel_act)[:, 0],
      "norm_bkg_B": masked_mean_of_selected(mag_BxT[..., None], sel_bkg)[:, 0],
      "magnitude_BxT": mag_BxT,
  }


def classification_loss(score_act_BxC, labels_BxC):
  """BCE of the action scores against ``y / sum(y)``, mean over classes."""
  target = labels_BxC / jnp.maximum(jnp.sum(labels_BxC, -1, keepdims=True),
                                    1e-8)
  per_video = jnp.mean(ops.binary_cross_entropy(score_act_BxC, target),
                       axis=-1)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def background_entropy_loss(score_bkg_BxC):
  """BCE of the background scores against the uniform distribution."""
  c = score_bkg_BxC.shape[-1]
  uniform = jnp.full_like(score_bkg_BxC, 1 / c)
  per_video = jnp.mean(ops.binary_cross_entropy(score_bkg_BxC, uniform),
                       axis=-1)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def uncertainty_loss(feat_act_BxF, feat_bkg_BxF, margin: float = 100.0):
  """Feature-magnitude (uncertainty) loss: large action, small background."""
  act = jax.nn.relu(margin - ops.safe_norm(feat_act_BxF, axis=-1))
  bkg = ops.safe_norm(feat_bkg_BxF, axis=-1)
  per_video = jnp.square(act + bkg)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def minmax_normalize(x_BxTxC, mask_BxT, min_B=None, max_B=None):
  """UM's test-time ``minmax_norm``: ``clip((x - lo) / (hi - lo), 0, 1)``.

  Without explicit bounds, ``lo``/``hi`` are the ReLU'd minimum/maximum over
  real snippets per channel; a non-positive range is replaced by 1.
  """
  if min_B is None or max_B is None:
    m = mask_BxT[..., None]
    hi = jax.nn.relu(jnp.max(jnp.where(m, x_BxTxC, -jnp.inf), axis=1))
    lo = jax.nn.relu(jnp.min(jnp.where(m, x_BxTxC, jnp.inf), axis=1))
    hi, lo = hi[:, None], lo[:, None]
  else:
    hi, lo = max_B[:, None, None], min_B[:, None, None]
  delta = hi - lo
  delta = jnp.where(delta <= 0, 1.0, delta)
  return jnp.clip((x_BxTxC - lo) / delta, 0.0, 1.0)
