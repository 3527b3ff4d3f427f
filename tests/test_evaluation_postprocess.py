"""Post-processing recipes and NMS against per-proposal loop references."""

import numpy as np
import pytest

from wtal_jax import evaluation as ev
from wtal_jax import recipes
from wtal_jax.evaluation import nms as nms_lib
from wtal_jax.evaluation import oic


# ----------------------------------------------------------------------------
# Loop references, written like the public PyTorch repositories' test code.
# ----------------------------------------------------------------------------
def ref_upsample(x, scale):
  t = x.shape[0]
  if scale == 1:
    return x.copy()
  pos = np.arange(t * scale) / scale
  out = np.interp(pos, np.arange(t), x)
  tail = pos > t - 1
  if t >= 2:  # interp1d(..., fill_value="extrapolate") past the last snippet.
    out[tail] = x[-2] + (x[-1] - x[-2]) * (pos[tail] - (t - 2))
  return out


def ref_iou(s1, e1, s2, e2, offset=0.0):
  inter = max(min(e1, e2) - max(s1, s2) + offset, 0.0)
  union = (e1 - s1 + offset) + (e2 - s2 + offset) - inter
  return inter / union if union > 0 else 0.0


def ref_nms(props, kind, iou_thr, sigma, offset=0.0):
  out = []
  for c in sorted({p[0] for p in props}):
    items = [p for p in props if p[0] == c]
    scores = np.array([p[3] for p in items], np.float64)
    alive = list(range(len(items)))
    while alive:
      i = alive[int(np.argmax(scores[alive]))]
      out.append((c, items[i][1], items[i][2], scores[i]))
      alive.remove(i)
      for j in list(alive):
        ov = ref_iou(items[j][1], items[j][2], items[i][1], items[i][2],
                     offset)
        if kind == "soft":
          scores[j] = scores[j] * np.exp(-(ov * ov) / sigma)
        elif kind in ("hard", "hard_decay") and ov >= iou_thr:
          alive.remove(j)
          if kind == "hard_decay":  # Kept, decayed, and out of the loop.
            out.append((c, items[j][1], items[j][2],
                        scores[j] * np.exp(-(ov * ov) / sigma)))
  return out


def ref_oic(cas, att, scores, sps, activation, thresholds, scale, min_len=1,
            outer_ratio=0.25, gamma=0.2, class_threshold=0.2,
            score_activation="cas", score_on_thresholded=False, nms="soft",
            nms_iou=0.6, nms_sigma=0.3, nms_length_offset=0.0):
  cls = np.where(scores >= class_threshold)[0]
  if len(cls) == 0:
    cls = np.array([np.argmax(scores)])
  if isinstance(activation, str):
    activation, thresholds = [activation], [thresholds]

  def signal(name, c):
    return {"cas": cas[:, c], "attention": att,
            "product": None if att is None else cas[:, c] * att}[name]

  props = []
  for name, ths in zip(activation, thresholds):
    for th in ths:
      for c in cls:
        act = ref_upsample(signal(name, c), scale)
        sc = ref_upsample(signal(score_activation, c), scale)
        if score_on_thresholded and name == score_activation:
          sc = sc.copy()
          sc[act < th] = 0
        pos = np.where(act > th)[0]
        if pos.size == 0:
          continue
        for g in np.split(pos, np.where(np.diff(pos) != 1)[0] + 1):
          if len(g) < min_len:
            continue
          length = len(g)
          inner = np.mean(sc[g])
          outer_s = max(0, int(g[0] - outer_ratio * length))
          outer_e = min(len(sc) - 1, int(g[-1] + outer_ratio * length))
          outer_list = (list(range(outer_s, int(g[0]))) +
                        list(range(int(g[-1] + 1), outer_e + 1)))
          outer = np.mean(sc[outer_list]) if outer_list else 0.0
          props.append((int(c), g[0] * sps / scale, (g[-1] + 1) * sps / scale,
                        inner - outer + gamma * scores[c]))
  return ref_nms(props, nms, nms_iou, nms_sigma, nms_length_offset)


def ref_wtalc(cas, scores, sps, threec=False):
  """W-TALC's per-video loop; ``threec``: 3C-Net's detectionMAP.py, whose
  class scores are the top-(T/8) mean of the CAS, kept above half their
  maximum and above 0, and added with weight 1."""
  out = []
  weight = 0.7
  if threec:
    prp = -np.sort(-cas, axis=0)
    scores = np.mean(prp[:max(1, int(cas.shape[0] / 8))], axis=0)
    keep = np.where((scores > np.max(scores) / 2) * (scores > 0))[0]
    weight = 1.0
  else:
    keep = np.where(scores >= np.mean(scores))[0]
  for c in keep:
    tmp = cas[:, c]
    threshold = np.max(tmp) - (np.max(tmp) - np.min(tmp)) * 0.5
    vid_pred = np.concatenate([np.zeros(1), (tmp > threshold).astype("float32"),
                               np.zeros(1)], axis=0)
    diff = [vid_pred[i] - vid_pred[i - 1] for i in range(1, len(vid_pred))]
    s = [i for i, d in enumerate(diff) if d == 1]
    e = [i for i, d in enumerate(diff) if d == -1]
    for j in range(len(s)):
      if e[j] - s[j] >= 2:
        out.append((int(c), s[j] * sps, e[j] * sps,
                    np.max(tmp[s[j]:e[j]]) + weight * scores[c]))
  return out


def _as_sorted(rows):
  arr = np.array(rows, np.float64).reshape(-1, 4)
  return arr[np.lexsort((arr[:, 3], arr[:, 2], arr[:, 1], arr[:, 0]))]


def _det_rows(d):
  return list(zip(d.label, d.t_start, d.t_end, d.score))


def _random_video(rng, t=None, c=4, quantize=False):
  t = t or int(rng.integers(1, 60))
  cas = np.cumsum(rng.normal(0, 0.3, (t, c)), axis=0)
  cas = 1 / (1 + np.exp(-cas))
  att = 1 / (1 + np.exp(-np.cumsum(rng.normal(0, 0.3, t))))
  if quantize:  # Exact threshold hits, equal scores, duplicate runs.
    cas, att = np.round(cas, 1), np.round(att, 1)
  scores = rng.random(c)
  return cas, att, scores


# ----------------------------------------------------------------------------
# Tests.
# ----------------------------------------------------------------------------
def _random_oic_params(rng):
  two_pass = rng.random() < 0.3
  th = np.round(np.sort(rng.uniform(0.05, 0.95, int(rng.integers(1, 6)))), 2)
  params = dict(
      activation=("cas", "attention") if two_pass else str(
          rng.choice(oic.ACTIVATIONS)),
      thresholds=(th, th[::-1] + 0.01) if two_pass else th,
      scale=int(rng.choice([1, 2, 5, 8])), min_len=int(rng.integers(1, 4)),
      outer_ratio=float(rng.choice([0.25, 0.4])),
      gamma=float(rng.choice([0.0, 0.2])),
      class_threshold=float(rng.choice([0.3, 0.99])),
      score_activation=str(rng.choice(oic.ACTIVATIONS)),
      score_on_thresholded=bool(rng.random() < 0.5),
      nms=str(rng.choice(["hard", "soft", "none"])),
      nms_iou=float(rng.choice([0.4, 0.6])),
      nms_sigma=float(rng.choice([0.3, 0.5])))
  if two_pass:
    params["score_activation"] = "cas"
  return params


@pytest.mark.parametrize("seed", range(4))
def test_oic_matches_loop_reference(seed):
  rng = np.random.default_rng(seed)
  for case in range(40):
    cas, att, scores = _random_video(rng, quantize=case % 3 == 0)
    params = _random_oic_params(rng)
    sps = float(rng.choice([0.64, 1.0]))
    got = ev.postprocess("oic", cas, att, scores, sps, "v", **params)
    want = ref_oic(cas, att, scores, sps, **params)
    g, w = _as_sorted(_det_rows(got)), _as_sorted(want)
    assert g.shape == w.shape, params
    np.testing.assert_array_equal(g[:, :3], w[:, :3])
    np.testing.assert_allclose(g[:, 3], w[:, 3], rtol=0, atol=1e-9)


def test_oic_published_recipes_match_reference():
  rng = np.random.default_rng(11)
  for head in ("um", "asl", "hamnet", "co2net"):
    name, params = recipes.for_head(head).POSTPROCESS
    assert name == "oic"
    cas, att, scores = _random_video(rng, t=50, c=5)
    got = ev.postprocess(name, cas, att, scores, 0.64, "v", **params)
    want = ref_oic(cas, att, scores, 0.64, **params)
    g, w = _as_sorted(_det_rows(got)), _as_sorted(want)
    np.testing.assert_array_equal(g[:, :3], w[:, :3])
    np.testing.assert_allclose(g[:, 3], w[:, 3], rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_wtalc_matches_loop_reference(seed):
  rng = np.random.default_rng(seed)
  for case in range(50):
    cas, _, scores = _random_video(rng, c=int(rng.integers(1, 6)),
                                   quantize=case % 2 == 0)
    got = ev.postprocess("wtalc", cas, None, scores, 0.64, "v")
    want = ref_wtalc(cas, scores, 0.64)
    g, w = _as_sorted(_det_rows(got)), _as_sorted(want)
    np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("seed", range(3))
def test_wtalc_with_threec_class_scores_matches_loop_reference(seed):
  rng = np.random.default_rng(seed)
  for case in range(50):
    cas, _, scores = _random_video(rng, c=int(rng.integers(1, 6)),
                                   quantize=case % 2 == 0)
    cas = cas - 0.5 * (case % 3 == 0)  # Some classes score <= 0.
    got = ev.postprocess("wtalc", cas, None, scores, 0.64, "v",
                         class_scores="cas_topk", class_filter="half_max",
                         class_weight=1.0)
    want = ref_wtalc(cas, scores, 0.64, threec=True)
    g, w = _as_sorted(_det_rows(got)), _as_sorted(want)
    np.testing.assert_array_equal(g, w)


def test_wtalc_threec_class_filter_hand_computed():
  # T = 16, k = 2. Class scores (top-2 means): 0.9, 0.5, 0.3; half the
  # largest is 0.45, so classes 0 and 1 are localised and class 2 is not.
  # The W-TALC filter on the video scores (mean 1/3) keeps class 0 only.
  cas = np.zeros((16, 3))
  cas[[3, 4], 0] = 0.9
  cas[[8, 9], 1] = 0.5
  cas[[12, 13], 2] = 0.3
  video_scores = np.array([0.6, 0.3, 0.1])
  d = ev.postprocess("wtalc", cas, None, video_scores, 1.0, "v",
                     class_scores="cas_topk", class_filter="half_max",
                     class_weight=1.0)
  np.testing.assert_array_equal(sorted(d.label), [0, 1])
  np.testing.assert_allclose(sorted(d.score), [0.5 + 0.5, 0.9 + 0.9])
  mean_filter = ev.postprocess("wtalc", cas, None, video_scores, 1.0, "v")
  np.testing.assert_array_equal(mean_filter.label, [0])
  with pytest.raises(ValueError, match="class_filter"):
    ev.postprocess("wtalc", cas, None, video_scores, 1.0, "v",
                   class_filter="max")


def test_wtalc_hand_computed():
  # Class 0: range [0, 1], threshold 0.5; runs above it: [1, 3) and [4, 5)
  # (too short). Class 1 has a video score below the mean: not localised.
  cas = np.array([[0.0, 0.9], [0.8, 0.9], [0.6, 0.9], [0.2, 0.9],
                  [1.0, 0.9], [0.0, 0.0]])
  d = ev.postprocess("wtalc", cas, None, np.array([0.9, 0.1]), 2.0, "v")
  np.testing.assert_array_equal(d.label, [0])
  np.testing.assert_array_equal(d.t_start, [2.0])
  np.testing.assert_array_equal(d.t_end, [6.0])
  np.testing.assert_allclose(d.score, [0.8 + 0.7 * 0.9])


def test_oic_hand_computed_score():
  # One class, no upsampling, threshold 0.5: run [2, 4) (values 1, 1),
  # length 2, outer bands floor(2 - 0.5) = 1 -> [1, 2) and up to
  # floor(3 + 0.5) = 3 -> empty on the right: outer mean 0.2.
  cas = np.array([[0.0], [0.2], [1.0], [1.0]])
  d = ev.postprocess("oic", cas, None, np.array([0.5]), 1.0, "v",
                     thresholds=[0.5], scale=1, gamma=0.1, nms="none")
  np.testing.assert_array_equal(d.t_start, [2.0])
  np.testing.assert_array_equal(d.t_end, [4.0])
  np.testing.assert_allclose(d.score, [1.0 - 0.2 + 0.1 * 0.5])


@pytest.mark.parametrize("kind", ["hard", "soft", "hard_decay"])
def test_batched_nms_matches_sequential_loop(kind):
  rng = np.random.default_rng(5)
  for _ in range(30):
    n = int(rng.integers(0, 120))
    group = rng.integers(0, int(rng.integers(1, 9)), n)
    s = np.round(rng.uniform(0, 50, n), 1)
    e = s + np.round(rng.uniform(0, 10, n), 1)  # Zero lengths included.
    sc = np.round(rng.uniform(-0.5, 1, n), 1)  # Ties and negative scores.
    keep, new = nms_lib.batched_nms(group, s, e, sc, kind=kind, iou=0.5,
                                    sigma=0.3)
    props = list(zip(group.tolist(), s.tolist(), e.tolist(), sc.tolist()))
    want = _as_sorted(ref_nms(props, kind, 0.5, 0.3))
    got = _as_sorted(list(zip(group[keep], s[keep], e[keep], new)))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["hard", "soft", "hard_decay"])
def test_batched_nms_with_length_offset_matches_sequential_loop(kind):
  rng = np.random.default_rng(6)
  for _ in range(20):
    n = int(rng.integers(0, 80))
    group = rng.integers(0, 4, n)
    s = np.round(rng.uniform(0, 30, n), 2)
    e = s + np.round(rng.uniform(0, 3, n), 2)
    sc = rng.uniform(-0.5, 1, n)
    keep, new = nms_lib.batched_nms(group, s, e, sc, kind=kind, iou=0.6,
                                    sigma=0.3, length_offset=1.0)
    props = list(zip(group.tolist(), s.tolist(), e.tolist(), sc.tolist()))
    want = _as_sorted(ref_nms(props, kind, 0.6, 0.3, offset=1.0))
    got = _as_sorted(list(zip(group[keep], s[keep], e[keep], new)))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_length_offset_suppresses_short_neighbours():
  # [0, 1] and [1.5, 2.5]: disjoint, tIoU 0; with a second added to each
  # length they overlap by 0.5 of a 3.5-long union, 1/7 >= 0.1.
  args = (np.zeros(2, int), np.array([0.0, 1.5]), np.array([1.0, 2.5]),
          np.array([0.9, 0.8]))
  keep, _ = nms_lib.batched_nms(*args, kind="hard", iou=0.1)
  np.testing.assert_array_equal(keep, [0, 1])
  keep, _ = nms_lib.batched_nms(*args, kind="hard", iou=0.1,
                                length_offset=1.0)
  np.testing.assert_array_equal(keep, [0])
  # The same two runs from oic at 0.5 s a snippet: [0, 1] and [1.5, 2.5].
  cas = np.array([[1.0], [1.0], [0.0], [1.0], [1.0]])
  for offset, count in ((0.0, 2), (1.0, 1)):
    d = ev.postprocess("oic", cas, None, np.array([0.5]), 0.5, "v",
                       thresholds=[0.5], scale=1, min_len=2, nms="hard",
                       nms_iou=0.1, nms_length_offset=offset)
    assert len(d.label) == count


def test_hard_decay_hand_computed():
  # [0, 2] (0.9) suppresses [1, 3] (0.8, tIoU 1/3 >= 0.3), which is kept at
  # 0.8 exp(-(1/3)^2 / 0.35) and does not suppress [2.5, 4] (0.5, tIoU with
  # [0, 2] is 0): the plain hard NMS keeps [0, 2] and [2.5, 4] only.
  args = (np.zeros(3, int), np.array([0.0, 1.0, 2.5]),
          np.array([2.0, 3.0, 4.0]), np.array([0.9, 0.8, 0.5]))
  keep, new = nms_lib.batched_nms(*args, kind="hard_decay", iou=0.3,
                                  sigma=0.35)
  np.testing.assert_array_equal(keep, [0, 1, 2])
  np.testing.assert_allclose(new, [0.9, 0.8 * np.exp(-(1 / 9) / 0.35), 0.5])
  keep, _ = nms_lib.batched_nms(*args, kind="hard", iou=0.3)
  np.testing.assert_array_equal(keep, [0, 2])
  with pytest.raises(ValueError, match="sigma > 0"):
    nms_lib.batched_nms(*args, kind="hard_decay", sigma=0.0)


def test_hard_nms_leaves_no_overlap_above_threshold():
  rng = np.random.default_rng(9)
  s = rng.uniform(0, 30, 200)
  e = s + rng.uniform(0.1, 5, 200)
  keep, _ = nms_lib.batched_nms(np.zeros(200, int), s, e, rng.random(200),
                                kind="hard", iou=0.3)
  for a in keep:
    for b in keep:
      if a < b:
        assert ref_iou(s[a], e[a], s[b], e[b]) < 0.3


def test_postprocess_many_equals_per_video_calls():
  rng = np.random.default_rng(2)
  videos = [_random_video(rng, c=3) for _ in range(12)]
  sps = [0.64 if i % 2 else 0.5 for i in range(12)]
  ids = [f"video_{i}" for i in range(12)]
  _, params = recipes.co2net.POSTPROCESS
  many = ev.postprocess_many("oic", [v[0] for v in videos],
                             [v[1] for v in videos], [v[2] for v in videos],
                             sps, ids, **params)
  single = ev.Detections.concatenate([
      ev.postprocess("oic", v[0], v[1], v[2], s, i, **params)
      for v, s, i in zip(videos, sps, ids)])
  for f in ("video", "label", "t_start", "t_end", "score"):
    np.testing.assert_array_equal(getattr(many, f), getattr(single, f))


def test_oic_properties():
  rng = np.random.default_rng(4)
  cas, att, scores = _random_video(rng, t=40, c=3)
  d = ev.postprocess("oic", cas, att, scores, 0.64, "v", scale=4, min_len=6,
                     nms="none")
  assert np.all(d.t_start >= 0) and np.all(d.t_end <= 40 * 0.64 + 1e-12)
  assert np.all(d.t_end - d.t_start >= 6 * 0.64 / 4 - 1e-12)
  assert set(d.label.tolist()) <= set(np.flatnonzero(scores >= 0.2).tolist())
  # No class above the threshold: the arg-max class is still localised.
  d = ev.postprocess("oic", cas, att, np.array([0.1, 0.05, 0.01]), 0.64, "v")
  assert set(d.label.tolist()) == {0}


def test_upsample_matches_interp_and_extrapolates():
  rng = np.random.default_rng(0)
  x = rng.random((3, 7))
  up = oic.upsample_linear(x, 24)
  assert up.shape == (3, 7 * 24)
  for r in range(3):
    np.testing.assert_array_equal(up[r], ref_upsample(x[r], 24))
  np.testing.assert_array_equal(up[:, ::24], x)
  np.testing.assert_array_equal(oic.upsample_linear(x, 1), x)


def test_bad_inputs_name_the_video():
  cas = np.ones((5, 2))
  with pytest.raises(ValueError, match="video_9.*NaN"):
    ev.postprocess("oic", cas * np.nan, None, np.ones(2), 1.0, "video_9")
  with pytest.raises(ValueError, match="video_9.*attention_T"):
    ev.postprocess("oic", cas, np.ones(4), np.ones(2), 1.0, "video_9")
  with pytest.raises(ValueError, match="needs attention_T"):
    ev.postprocess("oic", cas, None, np.ones(2), 1.0, "v",
                   activation="attention")
  with pytest.raises(ValueError, match="video_scores_C"):
    ev.postprocess("wtalc", cas, None, np.ones(3), 1.0, "video_9")
  with pytest.raises(KeyError, match="Unknown post-processing"):
    ev.postprocess("nope", cas, None, np.ones(2), 1.0, "v")


def test_every_published_recipe_runs():
  rng = np.random.default_rng(1)
  cas, att, scores = _random_video(rng, t=30, c=4)
  for head, recipe in recipes.BY_HEAD.items():
    name, params = recipe.POSTPROCESS
    assert name in ev.POSTPROCESS, head
    d = ev.postprocess(name, cas, att, scores, 0.64, "v", **params)
    assert len(d) > 0 and np.all(np.isfinite(d.score))
  assert "oic" in ev.METHOD_NOTES and "wtalc" in ev.METHOD_NOTES
