"""Weight initialisations by name, as the published codes draw them.

* ``xavier``: Xavier-uniform kernels, zero biases (W-TALC-derived code:
  3C-Net, and every fusion).
* ``he_uniform``: PyTorch's ``kaiming_uniform_`` with its defaults (fan-in,
  gain sqrt(2)), ``U(-sqrt(6 / fan_in), sqrt(6 / fan_in))``, zero biases:
  what the public HAM-Net and CO2-Net code draws for every conv.
* ``pytorch``: what a PyTorch ``Linear`` or ``Conv1d`` draws when the code
  leaves it alone (the public UM and ASL code): kernel and bias both
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, with ``fan_in`` the input channels
  times the kernel width.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

xavier = nn.initializers.xavier_uniform()
he_uniform = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")
# variance 1/3 / fan_in uniform: bound sqrt(3 * (1/3) / fan_in) = 1/sqrt(fan_in).
pytorch_kernel = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in",
                                                  "uniform")
KERNEL_INITS = {"xavier": xavier, "he_uniform": he_uniform,
                "pytorch": pytorch_kernel}


def _check(name: str) -> None:
  if name not in KERNEL_INITS:
    raise ValueError(f"Unknown init {name!r}; choose one of "
                     f"{sorted(KERNEL_INITS)}.")


def kernel_init(name: str):
  """The kernel initializer called ``name`` in :data:`KERNEL_INITS`."""
  _check(name)
  return KERNEL_INITS[name]


def bias_init(name: str, fan_in: int):
  """The bias initializer of ``name`` for a layer with ``fan_in`` inputs
  (zeros, except PyTorch's default ``U(±1/sqrt(fan_in))``)."""
  _check(name)
  if name != "pytorch":
    return nn.initializers.zeros
  bound = 1.0 / float(fan_in) ** 0.5

  def init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def layer_inits(name: str, fan_in: int) -> dict:
  """``kernel_init`` and ``bias_init`` of ``name`` for a ``nn.Dense`` or
  ``nn.Conv`` with ``fan_in`` inputs (input channels x kernel width), as
  keyword arguments."""
  return {"kernel_init": kernel_init(name), "bias_init": bias_init(name, fan_in)}
