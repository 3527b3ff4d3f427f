"""Per-snippet gates that choose among fusion paths (LGCA §3.2).

A gate is one Dense layer applied to each snippet followed by a softmax over
paths. With a small temperature (the *leaky* gate, tau = 0.1) the output is
almost one-hot, yet the unselected paths still leak through with a small weight,
which LGCA shows acts as a regulariser. The gate probabilities are sown into the
``intermediates`` collection under the key ``probs`` so that analysis code can
read them functionally.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

GATE_KINDS = ("leaky", "soft", "hard", "none")


def straight_through_gumbel(logits: jax.Array, key: jax.Array,
                            temperature: float = 1.0) -> jax.Array:
  """One-hot sample in the forward pass, Gumbel-softmax gradient backward."""
  gumbel = jax.random.gumbel(key, logits.shape, logits.dtype)
  soft = jax.nn.softmax((logits + gumbel) / temperature, axis=-1)
  hard = jax.nn.one_hot(jnp.argmax(soft, axis=-1), logits.shape[-1],
                        dtype=soft.dtype)
  # (soft - sg(soft)) is exactly 0 forward, so the output is exactly one-hot.
  return hard + (soft - jax.lax.stop_gradient(soft))


class Gate(nn.Module):
  """A per-snippet gate over ``num_paths`` paths.

  Attributes:
    num_paths: Number of paths to weight.
    kind: ``leaky`` (softmax at ``temperature``), ``soft`` (temperature 1),
      ``hard`` (straight-through Gumbel-softmax when training, argmax at
      evaluation; uses the ``gumbel`` RNG stream).
    temperature: Softmax temperature of the leaky gate.
  """

  num_paths: int
  kind: str = "leaky"
  temperature: float = 0.1

  @nn.compact
  def __call__(self, x_BxTxD: jax.Array, *, train: bool) -> jax.Array:
    """Returns path weights ``(B, T, num_paths)`` that sum to one."""
    logits = nn.Dense(self.num_paths, kernel_init=nn.initializers.xavier_uniform(),
                      name="fc")(x_BxTxD)
    if self.kind == "leaky":
      probs = jax.nn.softmax(logits / self.temperature, axis=-1)
    elif self.kind == "soft":
      probs = jax.nn.softmax(logits, axis=-1)
    elif self.kind == "hard":
      if train:
        probs = straight_through_gumbel(logits, self.make_rng("gumbel"))
      else:
        probs = jax.nn.one_hot(jnp.argmax(logits, -1), self.num_paths,
                               dtype=logits.dtype)
    else:
      raise ValueError(f"Gate kind must be one of {GATE_KINDS[:3]} for a "
                       f"learned gate, got {self.kind!r}.")
    self.sow("intermediates", "probs", probs)
    return probs


def weighted_sum(paths: list[jax.Array], weights_BxTxP: jax.Array) -> jax.Array:
  """``sum_p weights[..., p] * paths[p]``, broadcasting weights over features."""
  return sum(weights_BxTxP[..., p:p + 1] * x for p, x in enumerate(paths))
