"""Fusion modules: shapes, masking invariance, time-permutation equivariance,
agreement with a plain-NumPy reference, and the gates."""

import itertools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from wtal_jax.models.fusion import FUSIONS
from wtal_jax.models.fusion.cross_attention import CrossAttentionStage
from wtal_jax.models.fusion.gates import Gate, prior_bias
from wtal_jax.models.fusion.lgca import GATE_PATHS, gate_module_name

B, T, DM, DN, E = 3, 10, 6, 5, 8
LENGTHS = np.array([10, 7, 4])


def _inputs(seed=0, t=T):
  rng = np.random.default_rng(seed)
  xs = (jnp.asarray(rng.random((B, t, DM)), jnp.float32),
        jnp.asarray(rng.random((B, t, DN)), jnp.float32))
  mask = jnp.asarray(np.arange(t)[None] < LENGTHS[:, None])
  return xs, mask


def _fusion(kind, **kw):
  cfg = ml_collections.ConfigDict(dict(kind=kind, embed_dim=E, num_stages=2,
                                       skip="dense", gate="leaky",
                                       temperature=0.1, **kw))
  return FUSIONS.get(kind).from_config(cfg)


FUSION_CASES = (
    [("concat", {}), ("gaussian_noise", {"noise_scale": 0.1})]
    + [("cross_attention", {"num_stages": s, "skip": k})
       for s, k in itertools.product((1, 2, 3), ("none", "skip", "dense"))]
    + [("frozen_cross_attention", {"num_stages": 2})]
    + [("lgca", {"num_stages": s, "gate": g})
       for s, g in itertools.product((1, 2), ("leaky", "soft", "hard", "none"))]
    + [("lgca", {"skip_gates": False}), ("lgca", {"stage_gate": False}),
       ("lgca", {"attended_activation": "tanh"}),
       ("lgca", {"stage1_feature": "cross_attended"}),
       ("lgca", {"gated_activation": "tanh"}),
       ("lgca", {"num_stages": 1, "recalibration": "ccm"}),
       ("lgca", {"recalibration": "ccm"})])


def _case_id(case):
  kind, kw = case
  return kind + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", FUSION_CASES, ids=map(_case_id, FUSION_CASES))
def test_fusion_shapes_and_padding_invariance(case):
  kind, kw = case
  kw = dict(kw)
  stages = kw.pop("num_stages", 2)
  cfg = ml_collections.ConfigDict(dict(kind=kind, embed_dim=E, num_stages=stages,
                                       skip="dense", gate="leaky",
                                       temperature=0.1))
  cfg.update(kw)
  module = FUSIONS.get(kind).from_config(cfg)
  xs, mask = _inputs()
  variables = module.init({"params": jax.random.PRNGKey(0)}, xs, mask,
                          train=False)
  out = module.apply(variables, xs, mask, train=False)
  assert out.fused_BxTxF.shape == (B, T, 2 * E)
  assert [p.shape for p in out.per_modality] == [(B, T, E), (B, T, E)]
  np.testing.assert_allclose(
      out.fused_BxTxF, jnp.concatenate(out.per_modality, -1))
  assert np.all(np.isfinite(out.fused_BxTxF))

  # Appending padding with wild values must not change real snippets.
  pad = 6
  xs_p = tuple(jnp.concatenate([x, 1e3 * jnp.ones((B, pad, x.shape[-1]))], 1)
               for x in xs)
  mask_p = jnp.concatenate([mask, jnp.zeros((B, pad), bool)], 1)
  out_p = module.apply(variables, xs_p, mask_p, train=False)
  real = np.asarray(mask)[..., None]
  np.testing.assert_allclose(np.where(real, out_p.fused_BxTxF[:, :T], 0),
                             np.where(real, out.fused_BxTxF, 0),
                             rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["cross_attention", "lgca"])
def test_fusion_is_time_permutation_equivariant(kind):
  module = _fusion(kind)
  xs, _ = _inputs(1)
  mask = jnp.ones((B, T), bool)
  variables = module.init({"params": jax.random.PRNGKey(1)}, xs, mask,
                          train=False)
  perm = np.random.default_rng(2).permutation(T)
  out = module.apply(variables, xs, mask, train=False).fused_BxTxF
  out_perm = module.apply(variables, tuple(x[:, perm] for x in xs), mask,
                          train=False).fused_BxTxF
  np.testing.assert_allclose(out_perm, out[:, perm], rtol=1e-5, atol=1e-6)


def _np_softmax(x, axis):
  e = np.exp(x - x.max(axis=axis, keepdims=True))
  return e / e.sum(axis=axis, keepdims=True)


def _np_cross_attention(xm, xn, w):
  """Slow reference for one video: explicit loops over snippets."""
  norm = lambda v: v / np.linalg.norm(v)
  t = xm.shape[0]
  lam = np.array([[norm(xm[i]) @ w @ norm(xn[l]) for l in range(t)]
                  for i in range(t)])
  xm_t = np.stack([sum(_np_softmax(lam[:, l], 0)[i] * xm[i] for i in range(t))
                   for l in range(t)])
  xn_t = np.stack([sum(_np_softmax(lam[i, :], 0)[l] * xn[l] for l in range(t))
                   for i in range(t)])
  return xm_t, xn_t


def test_cross_attention_stage_matches_numpy_reference():
  xs, mask = _inputs(3)
  stage = CrossAttentionStage()
  variables = stage.init(jax.random.PRNGKey(0), xs[0], xs[0][..., :DM], mask)
  xm, xn = xs[0], xs[0] * 0.5 + 0.1
  out_m, out_n = stage.apply(variables, xm, xn, mask)
  w = np.asarray(variables["params"]["W"], np.float64)
  for b, n in enumerate(LENGTHS):
    ref_m, ref_n = _np_cross_attention(np.asarray(xm[b, :n], np.float64),
                                       np.asarray(xn[b, :n], np.float64), w)
    np.testing.assert_allclose(out_m[b, :n], ref_m, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out_n[b, :n], ref_n, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation,stage1,gated", [
    ("none", "gated", "relu"), ("tanh", "gated", "relu"),
    ("none", "cross_attended", "relu"), ("none", "gated", "tanh")])
def test_lgca_two_stage_matches_numpy_reference(activation, stage1, gated):
  module = _fusion("lgca", attended_activation=activation,
                   stage1_feature=stage1, gated_activation=gated)
  xs, mask = _inputs(4)
  mask = jnp.ones((B, T), bool)
  variables = module.init({"params": jax.random.PRNGKey(2)}, xs, mask,
                          train=False)
  out = module.apply(variables, xs, mask, train=False)
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64),
                             variables["params"])
  out_act = np.tanh if gated == "tanh" else (lambda v: np.maximum(v, 0))
  leaky = lambda v: np.where(v > 0, v, 0.01 * v)
  gate = lambda name, v: _np_softmax(
      (v @ p[name]["fc"]["kernel"] + p[name]["fc"]["bias"]) / 0.1, -1)
  for b in range(B):
    x = [leaky(np.asarray(xs[m][b], np.float64) @ p[f"embed_{m}"]["fc"]["kernel"]
               + p[f"embed_{m}"]["fc"]["bias"]) for m in range(2)]
    act = np.tanh if activation == "tanh" else (lambda v: v)
    t1 = [act(t) for t in _np_cross_attention(x[0], x[1], p["stage1"]["W"])]
    z1 = []
    for m in range(2):
      u = gate(gate_module_name("skip1", m), t1[m])
      z1.append(out_act(u[:, :1] * x[m] + u[:, 1:2] * t1[m]))
    # Eq. 8's X_att(1): the gated Z(1), or CAAV's Eq. 4 feature.
    a1 = (z1 if stage1 == "gated" else
          [np.tanh(x[m] + t1[m]) for m in range(2)])
    t2 = [act(t) for t in _np_cross_attention(a1[0], a1[1], p["stage2"]["W"])]
    for m in range(2):
      u2 = gate(gate_module_name("skip2", m), t2[m])
      z2 = out_act(u2[:, :1] * (x[m] + a1[m] + t2[m]) + u2[:, 1:2] * (x[m] + t2[m])
                + u2[:, 2:3] * (a1[m] + t2[m]))
      us = gate(gate_module_name("stage", m), t2[m])
      ref = us[:, :1] * z1[m] + us[:, 1:2] * z2
      np.testing.assert_allclose(out.per_modality[m][b], ref, rtol=1e-4,
                                 atol=1e-5)


def _sown_at_init(module):
  """The ``intermediates`` a freshly initialised fusion sows on ``_inputs()``."""
  xs, mask = _inputs()
  variables = module.init({"params": jax.random.PRNGKey(0)}, xs, mask,
                          train=False)
  _, state = module.apply(variables, xs, mask, train=False,
                          mutable=["intermediates"])
  return state["intermediates"]


def test_lgca_sows_every_gate_with_its_path_count():
  module = _fusion("lgca")
  sown = _sown_at_init(module)
  for gate, paths in GATE_PATHS.items():
    for m in range(2):
      probs = sown[gate_module_name(gate, m)]["probs"][0]
      assert probs.shape == (B, T, len(paths))
      np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_leaky_gate_is_near_one_hot_and_soft_gate_is_not():
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(4, 50, 16)), jnp.float32)
  for kind, tau in (("leaky", 0.1), ("soft", 1.0)):
    gate = Gate(3, kind, tau)
    v = gate.init({"params": jax.random.PRNGKey(0)}, x, train=False)
    logits = x @ v["params"]["fc"]["kernel"] + v["params"]["fc"]["bias"]
    probs = gate.apply(v, x, train=False)
    np.testing.assert_allclose(probs, _np_softmax(np.asarray(logits) / tau, -1),
                               rtol=1e-5, atol=1e-6)
  # With the logit gaps typical of a trained gate (>= 0.5), tau = 0.1 leaves
  # at most e^-5 on each leakage path, while tau = 1 keeps them substantial.
  logits = jnp.asarray([[0.0, 0.5, -0.2], [1.0, 0.0, 0.3]])
  leaky = jax.nn.softmax(logits / 0.1, -1)
  soft = jax.nn.softmax(logits, -1)
  assert float(leaky.max(-1).min()) > 0.99
  assert float(leaky.min()) > 0.0  # Leakage is small but never zero.
  assert float(soft.max(-1).max()) < 0.6


def test_hard_gate_is_one_hot_forward_with_nonzero_gradient():
  rng = np.random.default_rng(1)
  x = jnp.asarray(rng.normal(size=(2, 20, 8)), jnp.float32)
  gate = Gate(3, "hard")
  v = gate.init({"params": jax.random.PRNGKey(0)}, x, train=False)
  for train in (True, False):
    probs = gate.apply(v, x, train=train, rngs={"gumbel": jax.random.PRNGKey(5)})
    np.testing.assert_array_equal(np.sort(np.asarray(probs), -1)[..., :2], 0.0)
    np.testing.assert_array_equal(np.asarray(probs).max(-1), 1.0)
  target = jnp.asarray(rng.normal(size=(2, 20, 3)), jnp.float32)

  def loss(params):
    probs = gate.apply({"params": params}, x, train=True,
                       rngs={"gumbel": jax.random.PRNGKey(5)})
    return jnp.sum(probs * target)

  grads = jax.grad(loss)(v["params"])
  assert float(jnp.abs(grads["fc"]["kernel"]).sum()) > 0.0


def test_frozen_cross_attention_has_no_trainable_w():
  module = _fusion("frozen_cross_attention")
  xs, mask = _inputs()
  variables = module.init({"params": jax.random.PRNGKey(0)}, xs, mask,
                          train=False)
  assert "W" not in variables["params"].get("stage1", {})
  assert variables["frozen"]["stage1"]["W"].shape == (E, E)


@pytest.mark.parametrize("kind,num_paths,prior", [
    ("leaky", 2, 0.95), ("leaky", 3, 0.9), ("soft", 2, 0.8), ("soft", 3, 0.95)])
def test_gate_prior_starts_every_snippet_on_the_first_path(kind, num_paths,
                                                          prior):
  rng = np.random.default_rng(2)
  x = jnp.asarray(rng.normal(size=(2, 30, 16)) * 5, jnp.float32)
  gate = Gate(num_paths, kind, 0.1, prior)
  v = gate.init({"params": jax.random.PRNGKey(0)}, x, train=False)
  probs = np.asarray(gate.apply(v, x, train=False))
  rest = (1 - prior) / (num_paths - 1)
  np.testing.assert_allclose(probs, np.broadcast_to(
      [prior] + [rest] * (num_paths - 1), probs.shape), rtol=1e-5)
  # The weights are trained from there: the gate still sees its input.
  grad = jax.grad(lambda p: gate.apply({"params": p}, x, train=True)[..., 1]
                  .sum())(v["params"])
  assert float(jnp.abs(grad["fc"]["kernel"]).max()) > 0


def test_lgca_gate_prior_biases_skip_gates_only_and_starts_near_baseline():
  module = _fusion("lgca", gate_prior=0.95)
  sown = _sown_at_init(module)
  for m in range(2):
    skip1 = np.asarray(sown[gate_module_name("skip1", m)]["probs"][0])
    np.testing.assert_allclose(skip1[..., 0], 0.95, rtol=1e-5)
    skip2 = np.asarray(sown[gate_module_name("skip2", m)]["probs"][0])
    np.testing.assert_allclose(skip2[..., 0], 0.95, rtol=1e-5)
    stage = np.asarray(sown[gate_module_name("stage", m)]["probs"][0])
    assert not np.allclose(stage[..., 0], 0.95)  # Xavier-initialised.


def test_centred_gate_input_decides_per_snippet_not_per_video():
  """With ``gate_centred_input`` a skip gate reads each attended snippet
  minus its video's mean, so a video whose attended snippets are all alike
  gets the bias alone."""
  xs, mask = _inputs()
  module = _fusion("lgca", gate_centred_input=True)
  variables = module.init({"params": jax.random.PRNGKey(0)}, xs, mask,
                          train=False)

  def skip_probs(inputs):
    _, state = module.apply(variables, inputs, mask, train=False,
                            mutable=["intermediates"])
    return [np.asarray(state["intermediates"][gate_module_name(g, m)]
                       ["probs"][0]) for g in ("skip1", "skip2")
            for m in range(2)]

  # Identical snippets: X~ is the same everywhere, its centred value 0, and
  # the (Xavier, zero-bias) gates give every path the same weight.
  flat = tuple(jnp.broadcast_to(x[:, :1], x.shape) for x in xs)
  valid = np.asarray(mask)
  for probs in skip_probs(flat):
    np.testing.assert_allclose(probs[valid], 1.0 / probs.shape[-1],
                               rtol=1e-5)
  # The paper's gates (uncentred) do react to the same videos.
  plain = _fusion("lgca")
  _, state = plain.apply(variables, flat, mask, train=False,
                         mutable=["intermediates"])
  probs = np.asarray(state["intermediates"][gate_module_name("skip1", 0)]
                     ["probs"][0])
  assert not np.allclose(probs[np.asarray(mask)], 0.5, atol=1e-3)


def test_fixed_bias_gates_cannot_switch_a_whole_video():
  """With ``gate_fixed_bias`` the gates have no bias parameter; with
  ``gate_centred_input`` too, a skip gate's logits over a video average to
  the prior's, whatever its weights learn, so the gate can move single
  snippets but never the video as a whole."""
  xs, mask = _inputs()
  module = _fusion("lgca", gate_prior=0.95, gate_centred_input=True,
                   gate_fixed_bias=True)
  variables = module.init({"params": jax.random.PRNGKey(0)}, xs, mask,
                          train=False)
  gates = {k: v for k, v in variables["params"].items() if "_gate_" in k}
  assert gates and all(set(v["fc"]) == {"kernel"} for v in gates.values())

  # Weights as after training: random and large (the centred attended
  # features of these inputs are small).
  rng = np.random.default_rng(1)
  params = jax.tree_util.tree_map(lambda x: x, variables["params"])
  for name in gates:
    kernel = params[name]["fc"]["kernel"]
    params[name]["fc"]["kernel"] = jnp.asarray(
        rng.normal(0, 30.0, kernel.shape), kernel.dtype)
  _, state = module.apply({"params": params}, xs, mask, train=False,
                          mutable=["intermediates"])
  valid = np.asarray(mask)
  bias = np.asarray(prior_bias(2, 0.95, 0.1))
  for m in range(2):
    probs = np.asarray(state["intermediates"][gate_module_name("skip1", m)]
                       ["probs"][0])
    # Snippets now differ from the prior ...
    assert np.abs(probs[valid][:, 0] - 0.95).max() > 0.1
    # ... but each video's mean logit (up to the softmax's shift) is the
    # prior's: log p recovers logits / tau up to a per-snippet constant.
    logit_gap = 0.1 * (np.log(probs[..., 0]) - np.log(probs[..., 1]))
    for b in range(valid.shape[0]):
      np.testing.assert_allclose(logit_gap[b][valid[b]].mean(),
                                 bias[0] - bias[1], rtol=1e-4, atol=1e-5)
  # The paper's gates (learned bias) are unchanged by the option's default.
  plain = _fusion("lgca", gate_prior=0.95).init(
      {"params": jax.random.PRNGKey(0)}, xs, mask, train=False)
  assert "bias" in plain["params"][gate_module_name("skip1", 0)]["fc"]


@pytest.mark.parametrize("prior", [1.0, -0.5, 1.5])
def test_gate_prior_outside_the_open_interval_is_refused(prior):
  with pytest.raises(ValueError, match="prior"):
    prior_bias(2, prior, 0.1)
