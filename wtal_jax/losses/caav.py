"""CAAV's training losses (CAAV §3.3 and Appendix D).

All functions take the open-max probabilities ``p_BxTxC1`` with the background
at index 0, return ``(sum over videos, number of videos)`` and honour the mask.
Smoothed and pseudo targets are constants (``stop_gradient``), as targets.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from wtal_jax import ops

_EPS = 1e-8


def mil_video_scores(p_BxTxC1: jax.Array, mask_BxT: jax.Array,
                     topk_divisor: float = 8.0) -> jax.Array:
  """Video-level action scores: top-k mean over time, normalised over classes.

  ``k = ceil(T_valid / topk_divisor)``; the scores of the C action classes are
  divided by their sum so that they form a distribution.
  """
  k_B = ops.topk_count(ops.num_valid(mask_BxT), topk_divisor)
  s_BxC = ops.masked_topk_mean(p_BxTxC1[..., 1:], mask_BxT, k_B)
  return s_BxC / jnp.maximum(jnp.sum(s_BxC, axis=-1, keepdims=True), _EPS)


def mil_loss(p_BxTxC1, labels_BxC, mask_BxT, topk_divisor=8.0,
             background: bool = True):
  """Multiple-instance loss on the open-max scores.

  With ``background`` (the default), every open-max class, the background at
  index 0 included, gets a top-k video score; the C + 1 scores are normalised
  to sum to one and compared by cross-entropy with ``[1, y] / (1 + sum y)``:
  every untrimmed video contains background, and the open-max treats it as a
  class. This ties the foreground reliability ``mu`` to the labels: the
  action scores are ``mu * p_ac``, so a ``mu`` that collapses to 0 costs MIL.

  Without it (the ablation), the C action scores alone are normalised and
  compared with ``y / sum y``; the ratio leaves the scale of ``mu`` free, and
  the other terms (L_pseu's background pseudo-labels, L_cont) then pull it
  to 0 on every snippet.
  """
  if background:
    k_B = ops.topk_count(ops.num_valid(mask_BxT), topk_divisor)
    s_BxC1 = ops.masked_topk_mean(p_BxTxC1, mask_BxT, k_B)
    q = s_BxC1 / jnp.maximum(jnp.sum(s_BxC1, -1, keepdims=True), _EPS)
    y = jnp.concatenate([jnp.ones_like(labels_BxC[:, :1]), labels_BxC], -1)
  else:
    q = mil_video_scores(p_BxTxC1, mask_BxT, topk_divisor)
    y = labels_BxC
  target = y / jnp.maximum(jnp.sum(y, -1, keepdims=True), 1.0)
  per_video = -jnp.sum(target * jnp.log(q + _EPS), axis=-1)
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def continuity_loss(p_BxTxC1, fg_BxT, labels_BxC, mask_BxT,
                    window: int = 5, sigma: float = 1.0):
  """Foreground continuity L_cont (CAAV Eq. 6-8).

  ``mu_ag`` is the Gaussian-smoothed foreground reliability and ``mu_sp`` the
  Gaussian-smoothed open-max probability of a ground-truth class; L_cont is
  ``mean_l |mu - mu_ag| + |mu - mu_sp|``. For multi-label videos the
  class-specific term is averaged over the video's ground-truth classes. The
  window is normalised so that a constant sequence is its own target.
  """
  kernel = ops.gaussian_kernel(window, sigma)
  n_valid = jnp.maximum(ops.num_valid(mask_BxT), 1.0)
  m = mask_BxT.astype(fg_BxT.dtype)
  mu_ag = jax.lax.stop_gradient(
      ops.masked_temporal_smooth(fg_BxT[..., None], mask_BxT, kernel)[..., 0])
  agnostic = jnp.sum(jnp.abs(fg_BxT - mu_ag) * m, -1) / n_valid
  mu_sp_BxTxC = jax.lax.stop_gradient(
      ops.masked_temporal_smooth(p_BxTxC1[..., 1:], mask_BxT, kernel))
  diff_BxTxC = jnp.abs(fg_BxT[..., None] - mu_sp_BxTxC) * m[..., None]
  per_class_BxC = jnp.sum(diff_BxTxC, axis=1) / n_valid[:, None]
  n_pos = jnp.maximum(jnp.sum(labels_BxC, -1), 1.0)
  specific = jnp.sum(per_class_BxC * labels_BxC, -1) / n_pos
  per_video = agnostic + specific
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])


def pseudo_localization_loss(p_BxTxC1, mask_BxT, window: int = 5,
                             threshold: float = 0.5):
  """Pseudo localization L_pseu (CAAV Eq. 9).

  ``q_l`` averages the open-max predictions of the ``window`` snippets centred
  on l; where ``max q_l >= threshold`` the snippet is trained towards
  ``argmax q_l`` with cross-entropy. The sum is divided by the number of real
  snippets (the paper's 1/L), not by the number of confident ones.
  """
  kernel = np.ones((window,), np.float32)
  q = jax.lax.stop_gradient(
      ops.masked_temporal_smooth(p_BxTxC1, mask_BxT, kernel))
  pseudo_BxT = jnp.argmax(q, axis=-1)
  confident = (jnp.max(q, axis=-1) >= threshold) & mask_BxT
  logp = jnp.log(jnp.take_along_axis(p_BxTxC1, pseudo_BxT[..., None], -1)[..., 0]
                 + _EPS)
  per_video = (-jnp.sum(jnp.where(confident, logp, 0.0), -1)
               / jnp.maximum(ops.num_valid(mask_BxT), 1.0))
  return jnp.sum(per_video), jnp.float32(per_video.shape[0])
