"""Per-example randomness in a batched forward pass.

Dropout masks, Gumbel noise and the like are drawn per example from
``fold_in(key, slot)``, where ``key`` is the layer's key (``make_rng``, the
same on every device) and ``slot`` the example's position in the *global*
batch. An example therefore sees the same noise whether the batch is split
over 1, 4 or 256 devices, and the model runs batched: one matmul per layer
for the device's whole batch, rather than one per example.

Inside the train step's ``shard_map`` the slot is ``device * B_local + row``
(the batch is sharded in contiguous blocks over the ``batch`` mesh axis);
outside it, the row.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.parallel import BATCH_AXIS


def example_slots(batch: int) -> jax.Array:
  """The global batch positions of this device's ``batch`` rows."""
  try:
    device = jax.lax.axis_index(BATCH_AXIS)
  except NameError:  # Not under the data-parallel step: one device.
    device = 0
  return device * batch + jnp.arange(batch)


def example_keys(key: jax.Array, batch: int) -> jax.Array:
  """One key per example: ``fold_in(key, slot)``."""
  return jax.vmap(jax.random.fold_in, (None, 0))(key, example_slots(batch))


def bernoulli(key: jax.Array, p: float, shape) -> jax.Array:
  """Per-example ``bernoulli(p)`` of ``shape = (B, ...)``."""
  keys = example_keys(key, shape[0])
  return jax.vmap(lambda k: jax.random.bernoulli(k, p, shape[1:]))(keys)


def gumbel(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
  """Per-example standard Gumbel noise of ``shape = (B, ...)``."""
  keys = example_keys(key, shape[0])
  return jax.vmap(lambda k: jax.random.gumbel(k, shape[1:], dtype))(keys)


def normal(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
  """Per-example standard normal noise of ``shape = (B, ...)``."""
  keys = example_keys(key, shape[0])
  return jax.vmap(lambda k: jax.random.normal(k, shape[1:], dtype))(keys)


class Dropout(nn.Module):
  """Inverted dropout with per-example masks (``dropout`` RNG stream).

  Attributes:
    rate: Probability of dropping a unit.
    deterministic: No dropout (evaluation).
  """

  rate: float
  deterministic: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.deterministic or self.rate == 0.0:
      return x
    if self.rate >= 1.0:
      return jnp.zeros_like(x)
    keep = bernoulli(self.make_rng("dropout"), 1.0 - self.rate, x.shape)
    return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros_like(x))
