"""Every registered fusion composes with every registered head.

For each (fusion, head) pair at tiny sizes, the composed model
``head(fusion(x))`` (what ``WTALModel`` computes) is checked:

* one training step, ``jax.value_and_grad`` of the head's summed, weighted
  loss with dropout/Gumbel RNGs, gives a finite loss and non-zero gradients
  in the head's parameters and in the fusion output the head reads; the
  fusion's parameters get non-zero gradients through the heads (a VJP of the
  fusion, chained to the heads' gradients);
* one prediction gives finite outputs;
* padding every video with extra random snippets leaves the predictions on
  its real snippets and its video scores unchanged (evaluation mode).

The kinds are enumerated from the registries, so heads and fusions added
later are covered automatically (two modality groups, as every fusion
takes). Fusion and head are compiled separately:
every fusion hands the heads outputs of the same shapes, so each head's
compiled step is reused across all fusions, which keeps the test fast.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wtal_jax import config_lib, recipes
from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.heads import HEADS
from wtal_jax.models.model import RNG_STREAMS

B, T, PAD, C = 4, 12, 5, 3
LENGTHS = np.array([12, 9, 12, 6])
EMBED = 8
DIMS = (8, 4)
LOC_FIELDS = ("cas_BxTxC", "attention_BxT", "video_scores_BxC",
              "snippet_scores_BxTxC1")


def head_config(kind):
  """The head's published hyperparameters (its recipe's ``head()``), shrunk."""
  cfg = recipes.for_head(kind).head()
  for key, value in cfg.items():
    if key.endswith("_dim") and isinstance(value, int) and value > 16:
      cfg[key] = 16
  return cfg


def fusion_config(kind):
  c = config_lib.base_config().model.fusion
  c.kind = kind
  c.embed_dim = EMBED
  c.num_stages = 1
  c.noise_scale = 0.1
  return c


def make_batch(dims, seed=0):
  rng = np.random.default_rng(seed)
  mask = np.arange(T)[None] < LENGTHS[:, None]
  inputs = tuple(np.where(mask[..., None], rng.normal(size=(B, T, d)), 0.0)
                 .astype(np.float32) for d in dims)
  labels = np.eye(C, dtype=np.float32)[[0, 0, 1, 2]]
  labels[1, 2] = 1.0  # Pairs (0, 1) and (2, 3) share a class.
  counts = labels * np.array([[2, 1, 3]], np.float32)
  return {"inputs": inputs, "mask": mask, "labels": labels, "counts": counts}


def padded(batch, seed=1):
  rng = np.random.default_rng(seed)
  pad = lambda x: np.concatenate(
      [x, 10 * rng.normal(size=x.shape[:1] + (PAD,) + x.shape[2:])], 1
  ).astype(x.dtype)
  return {**batch, "inputs": tuple(pad(x) for x in batch["inputs"]),
          "mask": np.concatenate([batch["mask"], np.zeros((B, PAD), bool)], 1)}


def _rngs(key):
  return dict(zip(RNG_STREAMS, jax.random.split(key, len(RNG_STREAMS))))


def _strip(variables):
  return {k: v for k, v in variables.items() if k != "intermediates"}


@functools.lru_cache(maxsize=None)
def head_fns(kind):
  """Compiled ``init``, ``step`` and ``predict`` of one head (cached, and
  jit-cached per input shape, across fusions)."""
  cfg = head_config(kind)
  spec = HEADS.get(kind)
  module = spec.module.from_config(cfg, C)
  weights = dict(cfg.loss_weights)

  @jax.jit
  def init(key, fused, mask):
    return _strip(module.init({"params": key, **_rngs(key)}, fused, mask,
                              train=False))

  @jax.jit
  def step(variables, fused, batch, key):
    def loss(params, fused):
      out = module.apply({**variables, "params": params}, fused,
                         batch["mask"], train=True, rngs=_rngs(key),
                         mutable=["intermediates"])[0]
      terms = spec.loss_fn(out, batch, cfg)
      unknown = set(terms) - set(weights)
      assert not unknown, f"{kind}: loss terms {unknown} have no weight"
      return sum(weights[k] * s / jnp.maximum(c, 1.0)
                 for k, (s, c) in terms.items())
    return jax.value_and_grad(loss, argnums=(0, 1))(variables["params"], fused)

  @jax.jit
  def predict(variables, fused, mask):
    out = module.apply(variables, fused, mask, train=False,
                       mutable=["intermediates"])[0]
    return spec.predict_fn(out, mask, cfg)

  return init, step, predict


def run_pairs(fusion_kind, dims):
  """One training step and the predictions of every head on one fusion.

  Returns:
    ``{head: (loss, head_grads, fused_grads, loc, padded_loc)}`` and the
    fusion's parameter gradients (summed over the heads).
  """
  fusion = FUSIONS.get(fusion_kind).from_config(fusion_config(fusion_kind))
  batch, batch_pad = make_batch(dims), padded(make_batch(dims))
  key = jax.random.PRNGKey(0)
  fvars = _strip(jax.jit(lambda k: fusion.init(
      {"params": k, **_rngs(k)}, batch["inputs"], batch["mask"],
      train=False))(key))

  def train_fwd(params):
    return fusion.apply({**fvars, "params": params}, batch["inputs"],
                        batch["mask"], train=True, rngs=_rngs(key),
                        mutable=["intermediates"])[0]

  fused = jax.jit(train_fwd)(fvars.get("params", {}))
  fusion_vjp = jax.jit(lambda p, cot: jax.vjp(train_fwd, p)[1](cot)[0])
  eval_fwd = jax.jit(lambda p, b: fusion.apply(
      {**fvars, "params": p}, b["inputs"], b["mask"], train=False,
      mutable=["intermediates"])[0])
  fused_eval = eval_fwd(fvars.get("params", {}), batch)
  fused_eval_pad = eval_fwd(fvars.get("params", {}), batch_pad)

  results, cot = {}, jax.tree_util.tree_map(jnp.zeros_like, fused)
  train_batch = {k: v for k, v in batch.items() if k != "inputs"}
  for i, head in enumerate(HEADS.names()):
    init, step, predict = head_fns(head)
    hvars = init(jax.random.fold_in(key, i), fused, batch["mask"])
    loss, (head_grads, fused_grads) = step(hvars, fused, train_batch,
                                           jax.random.fold_in(key, 100 + i))
    cot = jax.tree_util.tree_map(jnp.add, cot, fused_grads)
    results[head] = (loss, head_grads, fused_grads,
                     predict(hvars, fused_eval, batch["mask"]),
                     predict(hvars, fused_eval_pad, batch_pad["mask"]))
  fusion_grads = fusion_vjp(fvars.get("params", {}), cot)
  return results, fusion_grads


@pytest.mark.parametrize("fusion", FUSIONS.names())
def test_every_head_trains_predicts_and_ignores_padding(fusion):
  results, fusion_grads = run_pairs(fusion, DIMS)
  mask = make_batch(DIMS)["mask"]
  failures = []
  for head, (loss, head_g, fused_g, loc, loc_pad) in results.items():
    pair = f"{fusion}+{head}"
    if not np.isfinite(float(loss)):
      failures.append(f"{pair}: loss {float(loss)}")
    for what, g in (("head parameters", head_g), ("fusion output", fused_g)):
      norm = float(optax.tree.norm(g))
      if not (np.isfinite(norm) and norm > 0):
        failures.append(f"{pair}: gradient norm {norm} in the {what}")
    for name in LOC_FIELDS:
      a = np.asarray(getattr(loc, name))
      b = np.asarray(getattr(loc_pad, name))
      if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        failures.append(f"{pair}: non-finite {name}")
        continue
      if name != "video_scores_BxC":
        real = mask.reshape(mask.shape + (1,) * (a.ndim - 2))
        a, b = np.where(real, a, 0.0), np.where(real, b[:, :T], 0.0)
      if not np.allclose(a, b, rtol=1e-4, atol=1e-5):
        failures.append(f"{pair}: padding changes {name} (max difference "
                        f"{np.max(np.abs(a - b)):.3g})")
  if jax.tree_util.tree_leaves(fusion_grads):
    norm = float(optax.tree.norm(fusion_grads))
    if not (np.isfinite(norm) and norm > 0):
      failures.append(f"{fusion}: gradient norm {norm} in the fusion")
  assert not failures, "\n".join(failures)
