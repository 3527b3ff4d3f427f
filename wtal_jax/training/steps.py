"""Data-parallel train and evaluation steps.

Both steps are written per device (the pmap style) and mapped over the mesh's
``batch`` axis with ``jax.shard_map``; each is compiled once per input shape.

Exactness across device counts: a head's loss terms are ``(sum, count)``
pairs. Each device divides its local sums by the *global* counts (a ``psum``
of the counts), so the global loss is the sum of the local ones and its
gradient the ``psum`` of local gradients; the weights' update is then the same
whether the batch lives on 1 or 8 devices. Per-example randomness (dropout,
Gumbel gates) is drawn from the step's key folded with the example's position
in the global batch (:mod:`wtal_jax.models.randomness`), so it too is
independent of how the batch is split, while the model runs batched.

The steps use ``check_vma=False``: gradients of replicated parameters are then
local and are reduced explicitly, as under ``pmap``.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.sharding import PartitionSpec as P

from wtal_jax.parallel import BATCH_AXIS
from wtal_jax.training.state import TrainState


def gate_statistics(intermediates, mask_BxT) -> dict[str, tuple]:
  """Per gate and path: (#real snippets where the path wins, mean-prob sum),
  and the number of real snippets, from sown gate probabilities.

  Returns:
    ``{gate_name: (wins_P, prob_sum_P, count)}`` (sums over local snippets).
  """
  stats = {}
  fusion = intermediates.get("fusion", {}) if intermediates else {}
  m = mask_BxT.astype(jnp.float32)
  for name, sown in fusion.items():
    if not isinstance(sown, dict) or "probs" not in sown:
      continue
    probs = sown["probs"][0]
    probs = probs.reshape(mask_BxT.shape + probs.shape[-1:])
    wins = jax.nn.one_hot(jnp.argmax(probs, -1), probs.shape[-1])
    stats[name] = (jnp.einsum("btp,bt->p", wins, m),
                   jnp.einsum("btp,bt->p", probs, m), jnp.sum(m))
  return stats


def loss_schedule(step, delay: int, warmup: int):
  """Weight multiplier of a loss term: 0 before ``delay``, then a linear ramp
  to 1 over ``warmup`` steps.

  Terms that feed on the model's own predictions (pseudo labels, smoothed
  targets) should only start once those predictions mean something.
  """
  step = jnp.asarray(step, jnp.float32)
  if warmup > 0:
    return jnp.clip((step - delay + 1) / warmup, 0.0, 1.0)
  return (step >= delay).astype(jnp.float32)


def make_train_step(model, head_spec, head_cfg, tx, mesh) -> Callable:
  """Builds the compiled ``train_step(state, batch, key) -> (state, metrics)``.

  ``metrics`` holds the total ``loss``, each term's unweighted mean
  (``loss/<term>``), the global gradient norm and gate selection rates.
  """
  weights = dict(head_cfg.loss_weights)
  delay = dict(head_cfg.get("loss_delay", {}))
  warmup = dict(head_cfg.get("loss_warmup", {}))

  def local_step(state: TrainState, batch, key):
    # The same keys on every device; each random layer folds in the global
    # position of each example (models/randomness.py).
    k_drop, k_gumbel = jax.random.split(jax.random.fold_in(key, state.step))

    def loss_fn(params):
      outs, inter = model.apply(
          {"params": params, **state.frozen}, batch["inputs"], batch["mask"],
          train=True, rngs={"dropout": k_drop, "gumbel": k_gumbel},
          mutable=["intermediates"])
      terms = head_spec.loss_fn(outs, batch, head_cfg)
      unknown = set(terms) - set(weights)
      if unknown:
        raise ValueError(f"Head {head_cfg.kind!r} returned loss terms "
                         f"{sorted(unknown)} without a weight in "
                         "config.model.head.loss_weights.")
      total, means = 0.0, {}
      for name, (s, c) in terms.items():
        global_count = jnp.maximum(lax.psum(lax.stop_gradient(c), BATCH_AXIS), 1.0)
        means[name] = s / global_count
        weight = weights[name] * loss_schedule(state.step, delay.get(name, 0),
                                               warmup.get(name, 0))
        total = total + weight * means[name]
      return total, (means, inter.get("intermediates", {}))

    (loss, (means, inter)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params)
    grads = lax.psum(grads, BATCH_AXIS)
    metrics = {"loss": lax.psum(loss, BATCH_AXIS),
               "grad_norm": optax.tree.norm(grads)}
    for name, v in means.items():
      metrics[f"loss/{name}"] = lax.psum(v, BATCH_AXIS)
    for gate, (wins, probs, count) in gate_statistics(inter, batch["mask"]).items():
      total = jnp.maximum(lax.psum(count, BATCH_AXIS), 1.0)
      metrics[f"gate_rate/{gate}"] = lax.psum(wins, BATCH_AXIS) / total
      metrics[f"gate_prob/{gate}"] = lax.psum(probs, BATCH_AXIS) / total
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    new_state = state.replace(step=state.step + 1,
                              params=optax.apply_updates(state.params, updates),
                              opt_state=opt_state)
    return new_state, metrics

  sharded = jax.shard_map(local_step, mesh=mesh,
                          in_specs=(P(), P(BATCH_AXIS), P()), out_specs=P(),
                          check_vma=False)
  return jax.jit(sharded, donate_argnums=(0,))


def make_eval_step(model, head_spec, head_cfg, mesh) -> Callable:
  """Builds ``eval_step(variables, batch) -> (localization, gate_probs)``.

  ``localization`` is the head's :class:`Localization`, sharded over the
  batch; ``gate_probs`` maps gate names to ``(B, T, P)``.
  """

  def local_eval(variables, batch):
    out, inter = model.apply(variables, batch["inputs"], batch["mask"],
                             train=False, mutable=["intermediates"])
    loc = head_spec.predict_fn(out, batch["mask"], head_cfg)
    gates = {name: sown["probs"][0]
             for name, sown in inter.get("intermediates", {}).get(
                 "fusion", {}).items()
             if isinstance(sown, dict) and "probs" in sown}
    return loc, gates

  def fn(variables, batch):
    return jax.shard_map(local_eval, mesh=mesh, in_specs=(P(), P(BATCH_AXIS)),
                         out_specs=P(BATCH_AXIS), check_vma=False)(
                             variables, batch)

  return jax.jit(fn)


def variables_of(state: TrainState) -> dict[str, Any]:
  return {"params": state.params, **state.frozen}
