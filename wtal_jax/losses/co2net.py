"""CO2-Net's training losses (Hong et al., ACM MM 2021; public ``model.py``).

``cas_BxTxC1`` holds the class logits with the background **last**;
``atts_BxTxM`` the M modal-specific attentions (one per fusion stream) and
``att_BxT`` their mean, the final attention. Every function returns ``(sum,
count)`` and honours the mask.

* MIL without / with background suppression (HAM-Net's top-k loss, see
  :mod:`wtal_jax.losses.hamnet`): ``mil_orig`` on the raw logits with
  background label 1, ``mil_supp`` on ``a (s - min_c s) + min_c s`` with
  background label 0.
* Mutual learning: ``0.5 MSE(a_v, sg(a_f)) + 0.5 MSE(a_f, sg(a_v))``; with M
  streams, the mean over ordered pairs of ``MSE(a_i, sg(a_j))`` (the same for
  M = 2, nothing for M = 1). The MSE is a mean over real snippets.
* Opposite loss: ``|a + s_bg - 1|`` with ``s_bg`` the soft-max background
  probability, averaged over real snippets and over the M + 1 attentions
  (each stream's and the mean; ``1/3`` of three for two streams).
* Norm loss: the mean attention, averaged the same way.
* CASL: :func:`wtal_jax.losses.casl.casl` on the fused features with the
  suppressed logits of the action classes (called by the head).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp

from wtal_jax import ops
from wtal_jax.losses.hamnet import attend, topk_mil_loss


def _per_video(x_B):
  return jnp.sum(x_B), jnp.float32(x_B.shape[0])


def _time_mean(x_BxT, mask_BxT):
  return ops.masked_mean_over_time(x_BxT[..., None], mask_BxT)[..., 0]


def suppressed_logits(cas_BxTxC1, att_BxT):
  """``a (s - min_c s) + min_c s``: background-suppressed logits."""
  return attend(cas_BxTxC1, att_BxT, include_min=True)


def mil_losses(cas_BxTxC1, att_BxT, labels_BxC, mask_BxT,
               topk_divisor: float = 7.0):
  """``{"mil_orig": ..., "mil_supp": ...}`` (top-k ``floor(T / divisor)``)."""
  return {
      "mil_orig": topk_mil_loss(cas_BxTxC1, labels_BxC, mask_BxT,
                                topk_divisor, 1.0),
      "mil_supp": topk_mil_loss(suppressed_logits(cas_BxTxC1, att_BxT),
                                labels_BxC, mask_BxT, topk_divisor, 0.0),
  }


def mutual_loss(atts_BxTxM, mask_BxT):
  """Mean over ordered stream pairs of ``MSE(a_i, stop_gradient(a_j))``."""
  m = atts_BxTxM.shape[-1]
  pairs = list(itertools.permutations(range(m), 2))
  if not pairs:
    return jnp.zeros((), atts_BxTxM.dtype), jnp.float32(0.0)
  sg = jax.lax.stop_gradient(atts_BxTxM)
  per_video = sum(_time_mean(jnp.square(atts_BxTxM[..., i] - sg[..., j]),
                             mask_BxT) for i, j in pairs) / len(pairs)
  return _per_video(per_video)


def _all_attentions(atts_BxTxM, att_BxT):
  return jnp.concatenate([atts_BxTxM, att_BxT[..., None]], axis=-1)


def opposite_loss(atts_BxTxM, att_BxT, cas_BxTxC1, mask_BxT):
  """Mean over attentions and real snippets of ``|a + s_bg - 1|``."""
  bg_BxT = jax.nn.softmax(cas_BxTxC1, -1)[..., -1]
  all_att = _all_attentions(atts_BxTxM, att_BxT)
  diff = jnp.abs(all_att + bg_BxT[..., None] - 1.0).mean(-1)
  return _per_video(_time_mean(diff, mask_BxT))


def norm_loss(atts_BxTxM, att_BxT, mask_BxT):
  """Mean over attentions and real snippets of the attention (its l1)."""
  all_att = _all_attentions(atts_BxTxM, att_BxT).mean(-1)
  return _per_video(_time_mean(all_att, mask_BxT))
