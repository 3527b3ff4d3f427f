"""The train state and the optimizer."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from wtal_jax.models.model import RNG_STREAMS


@flax.struct.dataclass
class TrainState:
  """Everything a checkpoint holds.

  Attributes:
    step: Number of optimizer updates applied.
    params: Trainable parameters.
    frozen: Non-trainable variable collections (e.g. frozen attention W).
    opt_state: Optimizer state.
  """

  step: jax.Array
  params: Any
  frozen: Any
  opt_state: Any


def make_optimizer(train_cfg) -> optax.GradientTransformation:
  """Adam with PyTorch-style (coupled L2) weight decay.

  The public implementations use ``torch.optim.Adam(weight_decay=wd)``, which
  adds ``wd * param`` to the gradient before the Adam moments; that is
  ``add_decayed_weights`` followed by ``adam``, not AdamW.
  """
  parts = []
  if train_cfg.get("weight_decay", 0.0):
    parts.append(optax.add_decayed_weights(train_cfg.weight_decay))
  parts.append(optax.adam(train_cfg.lr, b1=train_cfg.get("b1", 0.9),
                          b2=train_cfg.get("b2", 0.999),
                          eps=train_cfg.get("eps", 1e-8)))
  return optax.chain(*parts)


def init_variables(model, input_dims, key: jax.Array):
  """Initialises model variables on a tiny dummy batch (shapes only depend
  on the feature widths)."""
  inputs = tuple(jnp.zeros((2, 8, d), jnp.float32) for d in input_dims)
  mask = jnp.ones((2, 8), bool)
  keys = jax.random.split(key, 1 + len(RNG_STREAMS))
  rngs = {"params": keys[0], **dict(zip(RNG_STREAMS, keys[1:]))}
  return model.init(rngs, inputs, mask, train=False)


def create_train_state(model, tx, input_dims, key: jax.Array) -> TrainState:
  variables = dict(jax.jit(lambda k: init_variables(model, input_dims, k))(key))
  params = variables.pop("params")
  variables.pop("intermediates", None)
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    frozen=variables, opt_state=tx.init(params))
