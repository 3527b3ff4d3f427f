"""Masked sequence operations shared by fusion modules, heads and losses.

Every function takes a boolean ``mask_BxT`` marking real (unpadded) snippets and
guarantees that padded snippets have no influence on the result for real
snippets. Results at padded positions are finite but otherwise unspecified.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# A large finite negative: unlike -inf it keeps an all-padded row (a dummy
# evaluation example) finite instead of NaN.
NEG_INF = -1e30


def l2_normalize(x: jax.Array, axis: int = -1, eps: float = 1e-12) -> jax.Array:
  """Scales vectors along ``axis`` to unit l2 norm (zero vectors stay zero)."""
  sq = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
  return x * jax.lax.rsqrt(jnp.maximum(sq, eps * eps))


def safe_norm(x: jax.Array, axis: int = -1) -> jax.Array:
  """l2 norm along ``axis`` whose gradient at a zero vector is 0, not NaN.

  ``jnp.linalg.norm`` differentiates ``sqrt`` at 0 and yields NaN there,
  which happens as soon as a ReLU feature vector is all zeros (e.g. a
  background snippet whose magnitude training has driven to 0).
  """
  sq = jnp.sum(jnp.square(x), axis=axis)
  positive = sq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


@jax.custom_vjp
def binary_cross_entropy(p: jax.Array, target: jax.Array) -> jax.Array:
  """Element-wise BCE on probabilities, as PyTorch's ``BCELoss`` computes it.

  The value clamps each log at -100; the gradient with respect to ``p`` is
  ``(p - target) / max(p (1 - p), 1e-12)``. Differentiating the clamped logs
  instead gives ``0 * inf = NaN`` as soon as a soft-max score rounds to
  exactly 0 or 1, which a large learning rate reaches within a few steps.
  """
  return _bce_value(p, target)


def _bce_value(p, target):
  log_p = jnp.maximum(jnp.log(p), -100.0)
  log_q = jnp.maximum(jnp.log(1.0 - p), -100.0)
  return -(target * log_p + (1.0 - target) * log_q)


def _bce_fwd(p, target):
  return _bce_value(p, target), (p, target)


def _bce_bwd(res, g):
  p, target = res
  grad_p = g * (p - target) / jnp.maximum(p * (1.0 - p), 1e-12)
  # The target is a label: PyTorch does not differentiate BCELoss in it.
  return grad_p, jnp.zeros_like(target)


binary_cross_entropy.defvjp(_bce_fwd, _bce_bwd)


def masked_softmax(logits: jax.Array, mask: jax.Array, axis: int) -> jax.Array:
  """Softmax along ``axis`` that gives masked-out entries exactly zero weight.

  Args:
    logits: Scores; ``mask`` must broadcast against them.
    mask: True where an entry takes part.
    axis: The axis to normalise over.
  """
  logits = jnp.where(mask, logits, NEG_INF)
  probs = jax.nn.softmax(logits, axis=axis)
  return jnp.where(mask, probs, 0.0)


def num_valid(mask_BxT: jax.Array) -> jax.Array:
  """Number of real snippets per video, as float32 ``(B,)``."""
  return jnp.sum(mask_BxT.astype(jnp.float32), axis=-1)


def masked_mean_over_time(x_BxTx: jax.Array, mask_BxT: jax.Array) -> jax.Array:
  """Mean over real snippets: ``(B, T, ...) -> (B, ...)``."""
  m = mask_BxT.reshape(mask_BxT.shape + (1,) * (x_BxTx.ndim - 2))
  m = m.astype(x_BxTx.dtype)
  total = jnp.sum(x_BxTx * m, axis=1)
  count = jnp.maximum(jnp.sum(m, axis=1), 1.0)
  return total / count


def topk_count(n_valid_B: jax.Array, divisor: float, minimum: int = 1,
               rounding: str = "ceil") -> jax.Array:
  """Per-video top-k size ``k = round(n / divisor)``, at least ``minimum``.

  Args:
    n_valid_B: Real snippet counts.
    divisor: E.g. 8 for CAAV's ``ceil(T/8)``.
    minimum: Lower bound on k (so that short videos still select a snippet).
    rounding: ``"ceil"`` or ``"floor"`` (the public code bases differ).
  """
  fn = jnp.ceil if rounding == "ceil" else jnp.floor
  k = fn(n_valid_B / divisor)
  return jnp.clip(k, minimum, jnp.maximum(n_valid_B, minimum)).astype(jnp.int32)


def masked_topk_mean(x_BxTxC: jax.Array, mask_BxT: jax.Array,
                     k_B: jax.Array) -> jax.Array:
  """Mean of the ``k`` largest real values over time, per video and channel.

  ``k`` differs per video, so instead of ``lax.top_k`` (static k) this sorts
  once and averages the first ``k`` entries with a rank mask. Shapes stay
  static, which keeps the step compiled once.

  Args:
    x_BxTxC: Scores.
    mask_BxT: Real snippets.
    k_B: Number of entries to average per video, ``1 <= k <= T_valid``.

  Returns:
    ``(B, C)`` top-k means.
  """
  lowest = jnp.finfo(x_BxTxC.dtype).min
  x = jnp.where(mask_BxT[..., None], x_BxTxC, lowest)
  sorted_desc = -jnp.sort(-x, axis=1)
  ranks_T = jnp.arange(x.shape[1])
  take_BxT = ranks_T[None, :] < k_B[:, None]
  vals = jnp.where(take_BxT[..., None], sorted_desc, 0.0)
  return jnp.sum(vals, axis=1) / k_B[:, None].astype(x.dtype)


def gaussian_kernel(width: int, sigma: float) -> np.ndarray:
  """A centred Gaussian window of odd ``width`` (unnormalised, peak 1)."""
  if width % 2 != 1:
    raise ValueError(f"Gaussian window width must be odd, got {width}.")
  half = width // 2
  offsets = np.arange(-half, half + 1, dtype=np.float64)
  return np.exp(-0.5 * (offsets / sigma) ** 2).astype(np.float32)


def masked_temporal_smooth(x_BxTxC: jax.Array, mask_BxT: jax.Array,
                           kernel_K: np.ndarray) -> jax.Array:
  """Weighted moving average over real snippets only.

  Near a video's ends (and next to padding) the window is renormalised over
  the real snippets it covers, so padding never leaks into real positions and
  a constant sequence is a fixed point.

  Args:
    x_BxTxC: Values to smooth.
    mask_BxT: Real snippets.
    kernel_K: Odd-length window weights (e.g. :func:`gaussian_kernel`).

  Returns:
    The smoothed ``(B, T, C)`` values.
  """
  kernel = jnp.asarray(kernel_K, x_BxTxC.dtype)
  half = kernel.shape[0] // 2
  m = mask_BxT.astype(x_BxTxC.dtype)[..., None]
  xm = x_BxTxC * m
  t = x_BxTxC.shape[1]
  pad = ((0, 0), (half, half), (0, 0))
  xp, mp = jnp.pad(xm, pad), jnp.pad(m, pad)
  num = sum(kernel[i] * xp[:, i:i + t] for i in range(kernel.shape[0]))
  den = sum(kernel[i] * mp[:, i:i + t] for i in range(kernel.shape[0]))
  return num / jnp.maximum(den, 1e-12)
