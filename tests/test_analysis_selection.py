"""Gate selection rates: agreement with a NumPy reference over the sown
probabilities, sums to one, forced gates and the Markdown rendering."""

import os

import jax
import numpy as np
import pytest

from wtal_jax import analysis, config_lib
from wtal_jax.models.fusion.lgca import GATE_PATHS, gate_module_name
from wtal_jax.models.model import build_model
from wtal_jax.training.state import init_variables

ROOT = os.path.join(os.path.dirname(__file__), "..")
DIMS = (6, 5)


def make_model(**fusion):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.model.fusion.update(fusion)
  model = build_model(config.model, num_classes=3)
  variables = init_variables(model, DIMS, jax.random.PRNGKey(1))
  variables = {k: v for k, v in variables.items() if k != "intermediates"}
  return model, variables


def make_batches(seed=0, sizes=((3, 12), (2, 20))):
  rng = np.random.default_rng(seed)
  batches = []
  for b, t in sizes:
    lengths = rng.integers(1, t + 1, size=b)
    lengths[0] = t
    mask = np.arange(t)[None] < lengths[:, None]
    # Padded snippets get large values: a mistake that counts them would
    # show up as a disagreement with the reference.
    inputs = tuple(np.where(mask[..., None], rng.normal(size=(b, t, d)),
                            50.0).astype(np.float32) for d in DIMS)
    batches.append({"inputs": inputs, "mask": mask})
  return batches


def reference_rates(model, variables, batches):
  """Plain loops over the sown probabilities of every real snippet."""
  wins, probs, counts = {}, {}, {}
  for batch in batches:
    _, state = model.apply(variables, batch["inputs"], batch["mask"],
                           train=False, mutable=["intermediates"])
    for name, sown in state["intermediates"]["fusion"].items():
      p = np.asarray(sown["probs"][0], np.float64)
      w = wins.setdefault(name, np.zeros(p.shape[-1]))
      s = probs.setdefault(name, np.zeros(p.shape[-1]))
      for i in range(p.shape[0]):
        for t in range(p.shape[1]):
          if batch["mask"][i, t]:
            w[int(np.argmax(p[i, t]))] += 1
            s += p[i, t]
            counts[name] = counts.get(name, 0) + 1
  return {k: (wins[k] / counts[k], probs[k] / counts[k]) for k in wins}


@pytest.mark.parametrize("fusion", [
    dict(num_stages=2, gate="leaky"),
    dict(num_stages=1, gate="soft"),
    dict(num_stages=2, gate="hard"),
    dict(num_stages=2, gate="leaky", skip_gates=False),
])
def test_rates_match_reference_and_sum_to_one(fusion):
  model, variables = make_model(**fusion)
  batches = make_batches()
  table = analysis.selection_rates(model, variables, batches, ("rgb", "flow"))
  ref = reference_rates(model, variables, batches)
  assert len(ref) == len({(r.gate, r.modality) for r in table.rows}) > 0
  for name, (rate_ref, prob_ref) in ref.items():
    gate, m = analysis.selection.parse_gate_name(name)
    modality = ("rgb", "flow")[m]
    rates = [table.rate(gate, p, modality) for p in GATE_PATHS[gate]]
    means = [table.row(gate, p, modality).mean_prob for p in GATE_PATHS[gate]]
    np.testing.assert_allclose(rates, rate_ref, atol=1e-12)
    np.testing.assert_allclose(means, prob_ref, rtol=1e-5)
    assert np.isclose(sum(rates), 1.0)
    assert np.isclose(sum(means), 1.0, atol=1e-5)
  expected_gates = {"skip1"} if fusion["num_stages"] == 1 else set()
  if fusion["num_stages"] == 2:
    expected_gates = ({"skip1", "skip2", "stage"}
                      if fusion.get("skip_gates", True) else {"stage"})
  assert set(table.gates) == expected_gates


@pytest.mark.parametrize("forced", [(1, 2, 0), (0, 1, 1)])
def test_forced_gate_bias_reports_full_rate(forced):
  model, variables = make_model(num_stages=2, gate="leaky")
  params = jax.tree_util.tree_map(np.array, variables["params"])
  for gate, path in zip(("skip1", "skip2", "stage"), forced):
    for m in range(2):
      fc = params["fusion"][gate_module_name(gate, m)]["fc"]
      fc["kernel"][:] = 0.0
      fc["bias"][:] = 0.0
      fc["bias"][path] = 10.0
  table = analysis.selection_rates(model, {"params": params}, make_batches(3))
  for gate, path in zip(("skip1", "skip2", "stage"), forced):
    for modality in ("M", "N"):
      for p, label in enumerate(GATE_PATHS[gate]):
        assert table.rate(gate, label, modality) == (1.0 if p == path else 0.0)
      assert table.row(gate, GATE_PATHS[gate][path], modality).mean_prob > 0.99


def test_params_without_collection_wrapper_and_counts():
  model, variables = make_model(num_stages=1, gate="leaky")
  batches = make_batches(4)
  table = analysis.selection_rates(model, variables["params"], batches)
  assert {r.snippet_count for r in table.rows} == {
      int(sum(b["mask"].sum() for b in batches))}


def test_stats_from_probs_agrees_with_batched_rates():
  model, variables = make_model(num_stages=2, gate="leaky")
  batches = make_batches(5)
  per_video = []
  for batch in batches:
    _, state = model.apply(variables, batch["inputs"], batch["mask"],
                           train=False, mutable=["intermediates"])
    sown = state["intermediates"]["fusion"]
    for i, n in enumerate(batch["mask"].sum(1)):
      per_video.append({k: np.asarray(v["probs"][0])[i, :n]
                        for k, v in sown.items()})
  a = analysis.table_from_stats(analysis.stats_from_probs(per_video))
  b = analysis.selection_rates(model, variables, batches)
  assert [r.path for r in a.rows] == [r.path for r in b.rows]
  np.testing.assert_allclose([r.rate for r in a.rows],
                             [r.rate for r in b.rows])
  np.testing.assert_allclose([r.mean_prob for r in a.rows],
                             [r.mean_prob for r in b.rows], rtol=1e-5)


def test_markdown_and_dict_rendering():
  model, variables = make_model(num_stages=2, gate="leaky")
  table = analysis.selection_rates(model, variables, make_batches(),
                                   ("audio", "visual"))
  md = table.to_markdown()
  lines = md.splitlines()
  assert lines[0].startswith("| Gate | Path | ζ (audio) | ζ (visual) |")
  assert len(lines) == 2 + 2 + 3 + 2
  for label in ("X", "X̃(1)", "X + X_att(1) + X̃(2)", "Z(2)"):
    assert any(f"| {label} |" in line for line in lines)
  assert table._repr_markdown_() == md
  d = table.to_dict()
  assert set(d) == {"audio", "visual"}
  assert set(d["visual"]["skip2"]) == set(GATE_PATHS["skip2"])


def test_empty_input_is_an_error():
  model, variables = make_model(num_stages=1)
  batch = make_batches()[0]
  batch["mask"][:] = False
  with pytest.raises(ValueError, match="no real snippet"):
    analysis.selection_rates(model, variables, [batch])
