r"""Benchmarks the NumPy evaluator: oic post-processing plus detection mAP.

Scores a synthetic THUMOS14-sized test set (212 videos of about 150 s, 20
classes, CAS at the I3D snippet rate of 25/16 per second) with ``oic``
post-processing (x24 linear upsampling, 10 thresholds, Gaussian soft-NMS) and
mAP at the 7 THUMOS14 tIoUs, then runs a straightforward per-proposal Python
implementation of the same computation (the loop style of the public
repositories and of the official ``eval_detection.py``) and reports both
times, the speed-up, and the largest mAP difference between the two.

  python bench/evaluate.py [--num_videos=212] [--repeats=3] \
      [--output_json=bench/results/evaluate-<time>.json] [--skip_baseline]

Runs on one core (thread pools limited to 1 and, by default, the process
pinned to CPU 0). Prints a table and writes JSON so runs can be compared.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
  os.environ.setdefault(_var, "1")

import json  # pylint: disable=g-import-not-at-top
import platform
import statistics
import sys
import time

from absl import app
from absl import flags
import numpy as np

from wtal_jax import evaluation as ev

_NUM_VIDEOS = flags.DEFINE_integer("num_videos", 212, "Test videos.")
_SECONDS = flags.DEFINE_float("seconds", 150.0, "Mean video length (s).")
_NUM_CLASSES = flags.DEFINE_integer("num_classes", 20, "Action classes.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the synthetic outputs.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed runs of the fast path.")
_SKIP_BASELINE = flags.DEFINE_bool("skip_baseline", False,
                                   "Skip the per-proposal Python baseline.")
_PIN = flags.DEFINE_integer("pin_cpu", 0, "CPU to pin to; -1: do not pin.")
_OUTPUT = flags.DEFINE_string(
    "output_json", "", "Result file; default "
    "bench/results/evaluate-<YYYYmmdd-HHMMSS>.json.")

SPS = 16 / 25
PARAMS = dict(activation="cas", thresholds=tuple(np.linspace(0.1, 0.9, 10)),
              scale=24, min_len=1, outer_ratio=0.25, gamma=0.2,
              class_threshold=0.2, score_activation="cas", nms="soft",
              nms_sigma=0.3)


def synthetic_outputs(rng, num_videos, mean_seconds, num_classes):
  """Per-video CAS, attention, class scores, and the matching ground truth."""
  videos, gt_rows = [], []
  for v in range(num_videos):
    vid = f"video_test_{v:07d}"
    dur = float(np.clip(rng.normal(mean_seconds, 40), 60, 300))
    t = int(dur / SPS)
    classes = rng.choice(num_classes, 1 + int(rng.random() < 0.2),
                         replace=False)
    # Smooth background activation, mostly low.
    noise = np.cumsum(rng.normal(0, 0.35, (t, num_classes)), axis=0)
    noise -= noise.mean(axis=0)
    cas = 1 / (1 + np.exp(-(noise * 0.5 - 2.5)))
    att = np.zeros(t)
    starts = np.sort(rng.uniform(0, dur - 10, int(rng.integers(5, 25))))
    for s in starts:
      length = float(np.exp(rng.normal(np.log(3.0), 0.6)))
      c = int(rng.choice(classes))
      gt_rows.append((vid, c, s, min(s + length, dur)))
      i0, i1 = int(s / SPS), max(int((s + length) / SPS), int(s / SPS) + 1)
      bump = np.zeros(t)
      bump[i0:i1] = 0.5 + 0.4 * rng.random()
      bump = np.convolve(bump, np.ones(3) / 3, mode="same")
      cas[:, c] = np.maximum(cas[:, c], bump + rng.normal(0, 0.05, t))
      att = np.maximum(att, bump)
    scores = rng.random(num_classes) * 0.25
    scores[classes] = 0.5 + 0.4 * rng.random(classes.size)
    videos.append((vid, np.clip(cas, 0, 1), np.clip(att, 0, 1), scores))
  gt = ev.GroundTruth(*[list(x) for x in zip(*gt_rows)],
                      videos=[v[0] for v in videos])
  return videos, gt


def fast(videos, gt):
  """The library path: batched post-processing, then vectorised mAP."""
  t0 = time.perf_counter()
  dets = ev.postprocess_many("oic", [v[1] for v in videos],
                             [v[2] for v in videos], [v[3] for v in videos],
                             SPS, [v[0] for v in videos], **PARAMS)
  t1 = time.perf_counter()
  res = ev.detection_map(gt, dets, ev.THUMOS_TIOUS)
  t2 = time.perf_counter()
  return dets, res, t1 - t0, t2 - t1


# ---------------------------------------------------------------------------
# Straightforward per-proposal baseline (same semantics, Python loops).
# ---------------------------------------------------------------------------
def _iou(s1, e1, s2, e2):
  inter = max(min(e1, e2) - max(s1, s2), 0.0)
  union = (e1 - s1) + (e2 - s2) - inter
  return inter / union if union > 0 else 0.0


def _baseline_video(cas, scores, p):
  t = cas.shape[0]
  scale = p["scale"]
  cls = np.where(scores >= p["class_threshold"])[0]
  if len(cls) == 0:
    cls = np.array([np.argmax(scores)])
  pos = np.arange(t * scale) / scale
  props = {}
  for th in p["thresholds"]:
    for c in cls:
      x = cas[:, c]
      up = np.interp(pos, np.arange(t), x)
      tail = pos > t - 1
      up[tail] = x[-2] + (x[-1] - x[-2]) * (pos[tail] - (t - 2))
      on = np.where(up > th)[0]
      if on.size == 0:
        continue
      for g in np.split(on, np.where(np.diff(on) != 1)[0] + 1):
        if len(g) < p["min_len"]:
          continue
        n = len(g)
        inner = np.mean(up[g])
        o_s = max(0, int(g[0] - p["outer_ratio"] * n))
        o_e = min(len(up) - 1, int(g[-1] + p["outer_ratio"] * n))
        outer_idx = list(range(o_s, int(g[0]))) + list(
            range(int(g[-1] + 1), o_e + 1))
        outer = np.mean(up[outer_idx]) if outer_idx else 0.0
        props.setdefault(int(c), []).append(
            [g[0] * SPS / scale, (g[-1] + 1) * SPS / scale,
             inner - outer + p["gamma"] * scores[c]])
  out = []
  for c, items in props.items():  # Soft-NMS, one proposal per iteration.
    sc = np.array([it[2] for it in items])
    alive = list(range(len(items)))
    while alive:
      i = alive[int(np.argmax(sc[alive]))]
      out.append((c, items[i][0], items[i][1], sc[i]))
      alive.remove(i)
      for j in alive:
        ov = _iou(items[j][0], items[j][1], items[i][0], items[i][1])
        sc[j] *= np.exp(-(ov * ov) / p["nms_sigma"])
  return out


def _baseline_map(gt_rows, pred_rows, tious):
  """The official per-prediction loop, without pandas."""
  classes = sorted({g[1] for g in gt_rows})
  ap = np.zeros((len(tious), len(classes)))
  for k, c in enumerate(classes):
    gts = [g for g in gt_rows if g[1] == c]
    preds = [p for p in pred_rows if p[1] == c]
    if not preds:
      continue
    by_video = {}
    for gi, g in enumerate(gts):
      by_video.setdefault(g[0], []).append((gi, g[2], g[3]))
    order = np.argsort(np.array([p[4] for p in preds]))[::-1]
    lock = -np.ones((len(tious), len(gts)))
    tp = np.zeros((len(tious), len(preds)))
    for idx, pi in enumerate(order):
      vid, _, s, e, _ = preds[pi]
      cands = by_video.get(vid, [])
      ious = np.array([(max(min(e, ge) - max(s, gs), 0.0)) /
                       ((ge - gs) + (e - s) - max(min(e, ge) - max(s, gs), 0))
                       for _, gs, ge in cands])
      ranked = ious.argsort()[::-1] if cands else []
      for ti, thr in enumerate(tious):
        for j in ranked:
          if ious[j] < thr:
            break
          if lock[ti, cands[j][0]] >= 0:
            continue
          tp[ti, idx] = 1
          lock[ti, cands[j][0]] = idx
          break
    tpc = np.cumsum(tp, axis=1)
    fpc = np.cumsum(1 - tp, axis=1)
    rec, prec = tpc / len(gts), tpc / (tpc + fpc)
    for ti in range(len(tious)):
      mprec = np.hstack([[0], prec[ti], [0]])
      mrec = np.hstack([[0], rec[ti], [1]])
      for i in range(len(mprec) - 1)[::-1]:
        mprec[i] = max(mprec[i], mprec[i + 1])
      idx = np.where(mrec[1:] != mrec[:-1])[0] + 1
      ap[ti, k] = np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx])
  return ap.mean(axis=1)


def baseline(videos, gt):
  t0 = time.perf_counter()
  rows = []
  for vid, cas, _, scores in videos:
    rows += [(vid, c, s, e, sc) for c, s, e, sc in
             _baseline_video(cas, scores, PARAMS)]
  t1 = time.perf_counter()
  gt_rows = list(zip(gt.video.tolist(), gt.label.tolist(),
                     gt.t_start.tolist(), gt.t_end.tolist()))
  maps = _baseline_map(gt_rows, rows, ev.THUMOS_TIOUS)
  t2 = time.perf_counter()
  return maps, len(rows), t1 - t0, t2 - t1


def main(argv):
  del argv
  if _PIN.value >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {_PIN.value})
  rng = np.random.default_rng(_SEED.value)
  videos, gt = synthetic_outputs(rng, _NUM_VIDEOS.value, _SECONDS.value,
                                 _NUM_CLASSES.value)
  runs = [fast(videos, gt) for _ in range(max(1, _REPEATS.value))]
  dets, res = runs[0][0], runs[0][1]
  post = statistics.median(r[2] for r in runs)
  mapt = statistics.median(r[3] for r in runs)
  record = {
      "bench": "evaluate",
      "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
      "machine": {"platform": platform.platform(), "python": sys.version,
                  "numpy": np.__version__, "cpu": platform.processor(),
                  "pinned_cpu": _PIN.value},
      "setup": {"num_videos": _NUM_VIDEOS.value,
                "mean_seconds": _SECONDS.value,
                "num_classes": _NUM_CLASSES.value, "seed": _SEED.value,
                "snippets": int(sum(v[1].shape[0] for v in videos)),
                "gt_instances": len(gt),
                "postprocess": {k: (list(v) if isinstance(v, tuple) else v)
                                for k, v in PARAMS.items()},
                "tious": list(ev.THUMOS_TIOUS),
                "repeats": _REPEATS.value},
      "detections": len(dets),
      "fast_seconds": {"postprocess": post, "map": mapt,
                       "total": post + mapt,
                       "all_runs_total": [r[2] + r[3] for r in runs]},
      "average_map": res.average,
  }
  lines = ["| stage | fast (s) | baseline (s) | speed-up |",
           "| --- | ---: | ---: | ---: |"]
  if not _SKIP_BASELINE.value:
    maps, n_base, b_post, b_map = baseline(videos, gt)
    record["baseline_seconds"] = {"postprocess": b_post, "map": b_map,
                                  "total": b_post + b_map}
    record["baseline_detections"] = n_base
    record["max_abs_map_difference"] = float(
        np.max(np.abs(maps - res.map_per_tiou)))
    for name, f, b in (("oic post-processing", post, b_post),
                       ("detection mAP (7 tIoUs)", mapt, b_map),
                       ("total", post + mapt, b_post + b_map)):
      lines.append(f"| {name} | {f:.3f} | {b:.2f} | {b / f:.0f}x |")
    record["speedup_total"] = (b_post + b_map) / (post + mapt)
  else:
    for name, f in (("oic post-processing", post),
                    ("detection mAP (7 tIoUs)", mapt),
                    ("total", post + mapt)):
      lines.append(f"| {name} | {f:.3f} | - | - |")
  print(f"{_NUM_VIDEOS.value} videos, {record['setup']['snippets']} snippets, "
        f"{len(gt)} GT instances, {len(dets)} detections; average mAP "
        f"{100 * res.average:.2f}%.")
  print("\n".join(lines))
  if "max_abs_map_difference" in record:
    print(f"Largest |mAP(fast) - mAP(baseline)| over the tIoUs: "
          f"{record['max_abs_map_difference']:.1e}")
  path = _OUTPUT.value or os.path.join(
      os.path.dirname(os.path.abspath(__file__)), "results",
      f"evaluate-{time.strftime('%Y%m%d-%H%M%S')}.json")
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  print(f"Wrote {path}")


if __name__ == "__main__":
  app.run(main)
