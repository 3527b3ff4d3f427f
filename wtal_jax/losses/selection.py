"""Top-k snippet selection with a per-video k and static shapes.

The heads of UM, ASL and 3C-Net select snippets by a score (feature
magnitude, a combined class score) and then pool other quantities over the
selection. ``lax.top_k`` needs a static k, but k depends on each video's
number of real snippets, so the selection is a boolean mask built from ranks.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def topk_mask(scores_BxTxC: jax.Array, mask_BxT: jax.Array,
              k_B: jax.Array) -> jax.Array:
  """Marks the ``k`` highest-scoring real snippets of each video and channel.

  Ties are broken towards the earlier snippet (a stable sort). Padded
  snippets are never selected while ``k <= T_valid``.

  Args:
    scores_BxTxC: Selection scores.
    mask_BxT: Real snippets.
    k_B: Number of snippets to select per video.

  Returns:
    A boolean ``(B, T, C)`` mask with exactly ``min(k, T)`` entries per video
    and channel.
  """
  lowest = jnp.finfo(scores_BxTxC.dtype).min
  s = jnp.where(mask_BxT[..., None], scores_BxTxC, lowest)
  order_BxTxC = jnp.argsort(-s, axis=1, stable=True)
  ranks_BxTxC = jnp.argsort(order_BxTxC, axis=1, stable=True)
  return ranks_BxTxC < k_B[:, None, None]


def masked_mean_of_selected(x_BxTxC: jax.Array, sel_BxTxC: jax.Array
                            ) -> jax.Array:
  """Mean of ``x`` over the selected snippets, per video and channel."""
  sel = sel_BxTxC.astype(x_BxTxC.dtype)
  return (jnp.sum(x_BxTxC * sel, axis=1)
          / jnp.maximum(jnp.sum(sel, axis=1), 1.0))
