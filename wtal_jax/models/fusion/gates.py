"""Per-snippet gates that choose among fusion paths (LGCA §3.2).

A gate is one Dense layer applied to each snippet followed by a softmax over
paths. With a small temperature (the *leaky* gate, tau = 0.1) the output is
almost one-hot, yet the unselected paths still leak through with a small weight,
which LGCA shows acts as a regulariser. The gate probabilities are sown into the
``intermediates`` collection under the key ``probs`` so that analysis code can
read them functionally.

How a gate starts matters. With Xavier weights (the default) on raw or
attended features, the logits divided by 0.1 are large, so at initialisation
each video is sent down an arbitrary path. A gate with a ``prior`` starts as
its baseline instead, as a highway network's carry gate does: zero weights and
a bias that gives the first path probability ``prior`` on every snippet. The
weights are trained from there. docs/method_notes.md gives what each
choice measured.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax.models import randomness

GATE_KINDS = ("leaky", "soft", "hard", "none")


def prior_bias(num_paths: int, prior: float, temperature: float) -> jax.Array:
  """Logit bias under which ``softmax(bias / temperature)`` gives the first
  path probability ``prior`` and the others equal shares of the rest."""
  if not 0.0 < prior < 1.0:
    raise ValueError(f"A gate prior must lie in (0, 1), got {prior}.")
  first = temperature * math.log(prior * (num_paths - 1) / (1.0 - prior))
  return jnp.zeros((num_paths,)).at[0].set(first)


def straight_through_gumbel(logits: jax.Array, key: jax.Array,
                            temperature: float = 1.0) -> jax.Array:
  """One-hot sample in the forward pass, Gumbel-softmax gradient backward."""
  gumbel = randomness.gumbel(key, logits.shape, logits.dtype)
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
    prior: Initial probability of the first path (0: Xavier weights and zero
      bias, as the rest of the model). See the module docstring.
    fixed_bias: Keep the bias at its start (the prior's, or zero) instead of
      learning it; only the weights are trained (an option, see
      ``LeakyGatedCrossAttention.gate_fixed_bias``).
  """

  num_paths: int
  kind: str = "leaky"
  temperature: float = 0.1
  prior: float = 0.0
  fixed_bias: bool = False

  def _effective_temperature(self) -> float:
    return self.temperature if self.kind == "leaky" else 1.0

  @nn.compact
  def __call__(self, x_BxTxD: jax.Array, *, train: bool) -> jax.Array:
    """Returns path weights ``(B, T, num_paths)`` that sum to one."""
    if self.prior:
      bias = prior_bias(self.num_paths, self.prior,
                        self._effective_temperature())
      kernel_init = nn.initializers.zeros
    else:
      bias = jnp.zeros((self.num_paths,))
      kernel_init = nn.initializers.xavier_uniform()
    dense = nn.Dense(
        self.num_paths, kernel_init=kernel_init, use_bias=not self.fixed_bias,
        bias_init=lambda _, shape, dtype=jnp.float32: bias.astype(dtype),
        name="fc")
    logits = dense(x_BxTxD)
    if self.fixed_bias:
      logits = logits + bias.astype(logits.dtype)
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
