"""W-TALC's co-activity similarity loss (CASL) over same-class video pairs.

Batches place videos that share a class at consecutive positions
``(2k, 2k+1)``; the loss is computed over those pairs. For class c and video i,
``a_i = softmax_t(logits_i[:, c])`` over real snippets, the high-attention
feature is ``H_i = X_i^T a_i`` and the low-attention feature
``L_i = X_i^T (1 - a_i) / (T_i - 1)``. With ``d = 1 - cos`` each pair scores

  sum_c y1_c y2_c * 0.5 [max(0, d(H1,H2) - d(H1,L2) + m)
                         + max(0, d(H1,H2) - d(H2,L1) + m)] / sum_c y1_c y2_c.

Pairs that share no class contribute nothing and are not counted.

``normalize="classes"`` (CO2-Net's public code) instead sums the hinge terms
over the classes and pairs and divides by the number of shared classes over
all pairs, so a pair sharing two classes weighs twice. ``pairs_P`` restricts
the loss to some pairs (CO2-Net scores only the sampler's same-class pairs).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from wtal_jax import ops


def _cos_distance(a, b, eps=1e-8):
  num = jnp.sum(a * b, axis=-1)
  den = ops.safe_norm(a, axis=-1) * ops.safe_norm(b, axis=-1)
  return 1.0 - num / jnp.maximum(den, eps)


NORMALIZATIONS = ("pairs", "classes")


def casl(features_BxTxF: jax.Array, logits_BxTxC: jax.Array,
         labels_BxC: jax.Array, mask_BxT: jax.Array, margin: float = 0.5,
         *, pairs_P: jax.Array | None = None, normalize: str = "pairs"
         ) -> tuple[jax.Array, jax.Array]:
  """Co-activity similarity loss over consecutive pairs.

  Args:
    features_BxTxF: Snippet features X.
    logits_BxTxC: Per-class scores whose temporal softmax is the attention.
    labels_BxC: Multi-hot video labels.
    mask_BxT: Real snippets.
    margin: Hinge margin (0.5 in W-TALC).
    pairs_P: Optional ``(B / 2,)`` booleans: the pairs that count (default:
      every consecutive pair).
    normalize: ``"pairs"``: each pair's class-average, averaged over pairs;
      ``"classes"``: the sum over pairs and classes divided by the number of
      shared classes.

  Returns:
    ``(sum over valid pairs, number of valid pairs)``, or with ``"classes"``
    ``(sum over pairs and shared classes, number of shared classes)``.
  """
  if normalize not in NORMALIZATIONS:
    raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got "
                     f"{normalize!r}.")
  b = features_BxTxF.shape[0]
  if b % 2:
    raise ValueError(f"CASL needs an even batch of pairs, got batch {b}.")
  attn_BxTxC = ops.masked_softmax(logits_BxTxC, mask_BxT[..., None], axis=1)
  m = mask_BxT[..., None].astype(attn_BxTxC.dtype)
  n_valid = jnp.maximum(ops.num_valid(mask_BxT) - 1.0, 1.0)
  high_BxCxF = jnp.einsum("btc,btf->bcf", attn_BxTxC, features_BxTxF)
  low_BxCxF = jnp.einsum("btc,btf->bcf", (1.0 - attn_BxTxC) * m,
                         features_BxTxF) / n_valid[:, None, None]
  h1, h2 = high_BxCxF[0::2], high_BxCxF[1::2]
  l1, l2 = low_BxCxF[0::2], low_BxCxF[1::2]
  d_hh = _cos_distance(h1, h2)
  term = 0.5 * (jax.nn.relu(d_hh - _cos_distance(h1, l2) + margin)
                + jax.nn.relu(d_hh - _cos_distance(h2, l1) + margin))
  shared_PxC = labels_BxC[0::2] * labels_BxC[1::2]
  if pairs_P is not None:
    shared_PxC = shared_PxC * pairs_P[:, None].astype(shared_PxC.dtype)
  if normalize == "classes":
    return jnp.sum(shared_PxC * term), jnp.sum(shared_PxC)
  n_shared = jnp.sum(shared_PxC, axis=-1)
  valid = n_shared > 0
  per_pair = jnp.sum(shared_PxC * term, axis=-1) / jnp.maximum(n_shared, 1.0)
  return (jnp.sum(jnp.where(valid, per_pair, 0.0)),
          jnp.sum(valid.astype(jnp.float32)))
