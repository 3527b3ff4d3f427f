"""HAM-Net's training losses (Islam et al., AAAI 2021, Eq. 1-13).

Inputs are the class logits ``cas_BxTxC1`` over C actions plus the background
as the **last** index (HAM-Net's ``c + 1``-th class) and the soft attention
``att_BxT`` in [0, 1]. Every function returns ``(sum over videos, number of
videos)`` and honours the mask.

* Top-k MIL (Eq. 1-3): the video logit of each of the C + 1 classes is the
  mean of its ``k = max(1, floor(T_valid / divisor))`` largest snippet scores,
  the video distribution is their soft-max, and the loss is the cross-entropy
  against the labels extended by a background entry and normalised to sum 1.
* BCL scores the raw logits with background label 1; SAL (Eq. 7) the
  attention-guided ``cas * att`` with background label 0; SSAL (Eq. 8) the
  semi-soft attention and HAL (Eq. 9) the hard attention, background label 0
  and 1 respectively.
* Semi-soft and hard attentions drop snippets by thresholding the soft
  attention at ``gamma_v = drop_threshold * max_t a`` over the video's real
  snippets, as the public code's training loss does (its drop layer is called
  there without ``include_min``). ``drop_from_min=True`` uses
  ``gamma_v = min_t a + drop_threshold (max_t a - min_t a)`` instead, the
  public code's ``adl_include_min`` variant. With ``drop="high"`` (the paper:
  "drop the more discriminative parts") snippets with ``a >= gamma_v`` are dropped:
  ``a_semi = a [a < gamma_v]`` and ``a_hard = [a < gamma_v]``, the public
  code's mask. ``drop="low"`` keeps ``a > gamma_v`` instead.
* The dropped scores keep each snippet's minimum over classes, as the public
  code does: ``s_drop = a' (s - min_c s) + min_c s``; a dropped snippet then
  scores the same for every class instead of contributing zeros.
* Sparsity (Eq. 11): the mean soft attention over real snippets (the public
  code's ``mean``; the paper's sum differs by the factor T, absorbed by the
  weight). Guide (Eq. 13): the mean of ``|1 - a - softmax(s)_bg|`` with the
  soft-max over all C + 1 classes (public code).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wtal_jax import ops

DROP_SIDES = ("high", "low")


def _per_video(x_B: jax.Array) -> tuple[jax.Array, jax.Array]:
  return jnp.sum(x_B), jnp.float32(x_B.shape[0])


def topk_video_logits(scores_BxTxC1: jax.Array, mask_BxT: jax.Array,
                      topk_divisor: float) -> jax.Array:
  """Video-level logits: mean of the ``floor(T_valid / divisor)`` (at least
  1) largest real snippet scores per class (Eq. 1)."""
  k_B = ops.topk_count(ops.num_valid(mask_BxT), topk_divisor, rounding="floor")
  return ops.masked_topk_mean(scores_BxTxC1, mask_BxT, k_B)


def with_background(labels_BxC: jax.Array, background: float) -> jax.Array:
  """Appends the background label and normalises each row to sum 1."""
  bg = jnp.full(labels_BxC.shape[:-1] + (1,), background, labels_BxC.dtype)
  y = jnp.concatenate([labels_BxC, bg], axis=-1)
  return y / jnp.maximum(jnp.sum(y, axis=-1, keepdims=True), 1e-8)


def topk_mil_loss(scores_BxTxC1, labels_BxC, mask_BxT, topk_divisor: float,
                  background: float):
  """Cross-entropy of the soft-max of top-k video logits (Eq. 1-3).

  Args:
    scores_BxTxC1: Snippet scores, background last.
    labels_BxC: Multi-hot action labels.
    mask_BxT: Real snippets.
    topk_divisor: ``k = floor(T_valid / topk_divisor)``, at least 1.
    background: The background label (1: background present, 0: suppressed).
  """
  v_BxC1 = topk_video_logits(scores_BxTxC1, mask_BxT, topk_divisor)
  target = with_background(labels_BxC, background)
  return _per_video(-jnp.sum(target * jax.nn.log_softmax(v_BxC1, -1), -1))


def attend(cas_BxTxC1: jax.Array, att_BxT: jax.Array,
           include_min: bool = False) -> jax.Array:
  """``a (s - m) + m`` per snippet, with ``m`` the snippet's minimum over
  classes if ``include_min`` else 0."""
  m = jnp.min(cas_BxTxC1, -1, keepdims=True) if include_min else 0.0
  return att_BxT[..., None] * (cas_BxTxC1 - m) + m


def drop_attention(att_BxT: jax.Array, mask_BxT: jax.Array,
                   drop_threshold: float = 0.2, drop: str = "high",
                   drop_from_min: bool = False
                   ) -> tuple[jax.Array, jax.Array]:
  """Semi-soft and hard attentions (HAM-Net §"Semi-Soft / Hard Attention").

  Args:
    att_BxT: Soft attention in [0, 1].
    mask_BxT: Real snippets.
    drop_threshold: gamma.
    drop: ``"high"`` drops ``a >= gamma_v``; ``"low"`` keeps ``a > gamma_v``.
    drop_from_min: ``gamma_v = min + gamma (max - min)`` instead of
      ``gamma max`` (both over the real snippets).

  Returns:
    ``(semi_soft_BxT, hard_BxT)``; both are 0 at padded snippets. The
    threshold is a constant: no gradient flows through the selection.
  """
  if drop not in DROP_SIDES:
    raise ValueError(f"drop must be one of {DROP_SIDES}, got {drop!r}.")
  a = jax.lax.stop_gradient(att_BxT)
  hi = jnp.max(jnp.where(mask_BxT, a, -jnp.inf), -1, keepdims=True)
  lo = (jnp.min(jnp.where(mask_BxT, a, jnp.inf), -1, keepdims=True)
        if drop_from_min else 0.0)
  thresh = lo + drop_threshold * (hi - lo)
  keep = (a < thresh) if drop == "high" else (a > thresh)
  keep = (keep & mask_BxT).astype(att_BxT.dtype)
  return keep * att_BxT, keep


def hamnet_losses(cas_BxTxC1, att_BxT, labels_BxC, mask_BxT, *,
                  topk_divisor: float = 10.0, drop_threshold: float = 0.2,
                  drop: str = "high", drop_include_min: bool = True,
                  drop_from_min: bool = False
                  ) -> dict[str, tuple[jax.Array, jax.Array]]:
  """All six HAM-Net terms: ``bcl, sal, ssal, hal, sparsity, guide``."""
  semi, hard = drop_attention(att_BxT, mask_BxT, drop_threshold, drop,
                              drop_from_min)
  mil = lambda s, bg: topk_mil_loss(s, labels_BxC, mask_BxT, topk_divisor, bg)
  return {
      "bcl": mil(cas_BxTxC1, 1.0),
      "sal": mil(attend(cas_BxTxC1, att_BxT), 0.0),
      "ssal": mil(attend(cas_BxTxC1, semi, drop_include_min), 0.0),
      "hal": mil(attend(cas_BxTxC1, hard, drop_include_min), 1.0),
      "sparsity": sparsity_loss(att_BxT, mask_BxT),
      "guide": guide_loss(att_BxT, cas_BxTxC1, mask_BxT),
  }


def sparsity_loss(att_BxT, mask_BxT):
  """Mean attention over real snippets (Eq. 11, as a mean)."""
  return _per_video(ops.masked_mean_over_time(att_BxT[..., None],
                                              mask_BxT)[..., 0])


def guide_loss(att_BxT, cas_BxTxC1, mask_BxT):
  """Mean ``|1 - a - softmax(s)_bg|`` over real snippets (Eq. 13)."""
  bg_BxT = jax.nn.softmax(cas_BxTxC1, -1)[..., -1]
  diff = jnp.abs(1.0 - att_BxT - bg_BxT)
  return _per_video(ops.masked_mean_over_time(diff[..., None],
                                              mask_BxT)[..., 0])


def attention_video_scores(cas_BxTxC1, att_BxT, mask_BxT,
                           topk_divisor: float) -> jax.Array:
  """Test-time class scores: soft-max over C + 1 of the top-k video logits
  of ``cas * att``, background dropped (``(B, C)``)."""
  v = topk_video_logits(attend(cas_BxTxC1, att_BxT), mask_BxT, topk_divisor)
  return jax.nn.softmax(v, -1)[..., :-1]
