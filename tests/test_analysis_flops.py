"""FLOPs from XLA's cost analysis: linear in T for heads and embeddings,
quadratic in T for cross-attention, with analytical lower bounds."""

import os

import numpy as np
import pytest

from wtal_jax import analysis, config_lib

ROOT = os.path.join(os.path.dirname(__file__), "..")
DIMS = (12, 10)
NUM_CLASSES = 4
LENGTHS = (32, 64, 128)


def smoke(**fusion):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.model.fusion.update(fusion)
  return config


def costs(config):
  return [analysis.flops(config, video_length=t, input_dims=DIMS,
                         num_classes=NUM_CLASSES) for t in LENGTHS]


def part(reports, name):
  return np.array([r.per_video[name] for r in reports])


@pytest.fixture(scope="module")
def lgca_reports():
  return costs(smoke(kind="lgca", num_stages=2))


def test_cross_attention_fusion_is_quadratic_in_t(lgca_reports):
  # XLA's counts of fused softmax reductions are not an exact polynomial in
  # T, so the test checks the growth: doubling T multiplies the cost by a
  # factor that rises towards 4 as the T^2 terms take over.
  fusion = part(lgca_reports, "fusion")
  ratios = fusion[1:] / fusion[:-1]
  assert 2.5 < ratios[0] < ratios[1] <= 4.0
  # Per stage, the correlation and the two attention products are
  # (T x D) @ (D x T)-sized: at least 3 * 2 * T^2 * D FLOPs.
  embed = smoke().model.fusion.embed_dim
  lengths = np.array(LENGTHS, np.float64)
  assert np.all(fusion >= 2 * 3 * 2 * embed * lengths**2)


def test_head_is_linear_in_t(lgca_reports):
  head = part(lgca_reports, "head")
  np.testing.assert_allclose(head[1:] / head[:-1], 2.0, rtol=1e-9)
  # Two dense layers on the fused features (2 * embed wide): C + 1 outputs.
  fused = 2 * smoke().model.fusion.embed_dim
  assert np.all(head >= 2 * fused * (NUM_CLASSES + 1) * np.array(LENGTHS))


def test_concat_fusion_is_linear_and_total_adds_up(lgca_reports):
  concat = costs(smoke(kind="concat"))
  fusion = part(concat, "fusion")
  np.testing.assert_allclose(fusion[1:] / fusion[:-1], 2.0, rtol=1e-9)
  for r in lgca_reports + concat:
    parts = r.per_video["fusion"] + r.per_video["head"]
    # One program or two: XLA fuses differently but counts the same work.
    assert r.per_video["total"] == pytest.approx(parts, rel=0.15)
    assert r.per_snippet["total"] == pytest.approx(
        r.per_video["total"] / r.video_length)


def test_gates_cost_little_and_stages_cost_more(lgca_reports):
  gated = lgca_reports[0]
  assert gated.video_length == 32
  ungated = analysis.flops(smoke(gate="none"), video_length=32,
                           input_dims=DIMS, num_classes=NUM_CLASSES)
  # Without video_length the training length is used.
  one = analysis.flops(smoke(num_stages=1), input_dims=DIMS,
                       num_classes=NUM_CLASSES)
  assert one.video_length == smoke().data.num_snippets == 32
  assert one.per_video["fusion"] < ungated.per_video["fusion"]
  assert ungated.per_video["fusion"] < gated.per_video["fusion"]
  table = analysis.cost_table({"1-stage": one, "2-stage": ungated,
                               "2-stage + leaky": gated})
  assert len(table.splitlines()) == 5
  assert "| 2-stage + leaky | 32 |" in table
  assert set(one.to_dict()["per_snippet"]) == {"fusion", "head", "total"}
