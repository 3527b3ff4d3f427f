"""The synthetic_thumos TFDS dataset as stored (tiny config)."""

import math
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_prep import synthetic_model as sm
from data_prep import synthetic_thumos as st
from data_prep import timings as timings_lib
from wtal_jax.data import schema

C = 20
SPS = 16 / 25
MODS = ("rgb", "flow", "audio")


@pytest.fixture(scope="module")
def tiny_dir(data_dir):
  return st.builder_dir(data_dir, "tiny")


@pytest.fixture(scope="module")
def examples(tiny_dir):
  builder = tfds.builder_from_directory(tiny_dir)
  out = {}
  for split in st.SPLITS:
    source = builder.as_data_source(split)
    out[split] = [source[i] for i in range(len(source))]
  return out


@pytest.fixture(scope="module")
def raw_timings():
  return timings_lib.read_timings_json()


def _vid(example):
  v = example["video_id"]
  return v.decode() if isinstance(v, bytes) else str(v)


def test_builder_dir_layout_and_is_built(data_dir, tmp_path):
  assert st.is_built(data_dir, "tiny")
  assert st.builder_dir(data_dir, "tiny") == os.path.join(
      data_dir, "synthetic_thumos", "tiny", "1.0.0")
  assert not st.is_built(str(tmp_path), "tiny")
  assert st.builder_dir(data_dir, "tiny", seed=4).endswith(
      os.path.join("tiny_seed4", "1.0.0"))
  assert st.builder_dir(data_dir, "full", seed=0).endswith(
      os.path.join("full", "1.0.0"))


def test_stored_as_array_record(tiny_dir):
  files = os.listdir(tiny_dir)
  assert any(".array_record-" in f for f in files)
  assert not any(".tfrecord" in f for f in files)


def test_metadata_round_trip(tiny_dir, raw_timings):
  info = tfds.builder_from_directory(tiny_dir).info
  meta = schema.DatasetMeta.from_metadata(info.metadata)
  assert meta.class_names == tuple(raw_timings["class_names"])
  assert dict(meta.modality_dims) == {"rgb": 32, "flow": 32, "audio": 16}
  assert meta.frames_per_snippet == 16 and meta.fps == 25
  assert meta.skipped == ()
  assert "seed 0" in meta.source
  assert info.config_name == "tiny"


def test_schema_shapes_and_dtypes(examples):
  dims = {"rgb": 32, "flow": 32, "audio": 16}
  for split, exs in examples.items():
    for ex in exs:
      num_t = ex["rgb"].shape[0]
      for m in MODS:
        assert ex[m].dtype == np.float32
        assert ex[m].shape == (num_t, dims[m])
        assert ex[m].min() >= 0.0
      assert ex["labels"].dtype == np.float32 and ex["labels"].shape == (C,)
      assert ex["segments"].dtype == np.float64
      assert ex["segments"].shape == (ex["segment_labels"].shape[0], 2)
      assert ex["segment_labels"].dtype == np.int32
      assert ex["ambiguous"].dtype == np.float64
      assert ex["ambiguous"].shape[1:] == (2,)
      assert ex["seconds_per_snippet"] == SPS
      # T covers the duration: ceil up to float error below a microsecond.
      assert num_t == max(1, math.ceil(ex["duration"] / SPS - 1e-6))
      assert num_t <= 96
      expected = np.zeros(C, np.float32)
      expected[ex["segment_labels"]] = 1
      np.testing.assert_array_equal(ex["labels"], expected)


def test_segments_round_trip_exactly(examples, raw_timings):
  crop_s = 96 * SPS
  for split, exs in examples.items():
    source = {v["video"]: v for v in raw_timings["splits"][split]}
    for ex in exs:
      orig = source[_vid(ex)]
      keep = [i for i, s in enumerate(orig["segments"]) if s[1] <= crop_s]
      assert ex["segments"].tolist() == [orig["segments"][i] for i in keep]
      assert ex["segment_labels"].tolist() == [orig["labels"][i] for i in keep]
      assert ex["ambiguous"].tolist() == [
          a for a in orig["ambiguous"] if a[1] <= crop_s]
      assert ex["duration"] == min(orig["duration"], crop_s)


def test_instance_counts_match_timings_file(examples, raw_timings):
  crop_s = 96 * SPS
  for split, exs in examples.items():
    source = {v["video"]: v for v in raw_timings["splits"][split]}
    expected = sum(sum(s[1] <= crop_s for s in source[_vid(ex)]["segments"])
                   for ex in exs)
    assert sum(len(ex["segment_labels"]) for ex in exs) == expected
  assert (len(examples["train"]), len(examples["test"])) == (24, 12)


def test_ambiguous_segments_reach_test_examples(tiny_dir):
  """Ambiguous segments are stored (checked on a one-video crop that has)."""
  raw = timings_lib.read_timings_json()
  with_amb = [v for v in raw["splits"]["test"] if v["ambiguous"]]
  assert with_amb
  timing = timings_lib.parse_timings(raw).splits["test"]
  timing = next(t for t in timing if t.video == with_amb[0]["video"])
  ex = st.make_example(timing, C, {m: np.zeros((1, 1), np.float32)
                                   for m in MODS})
  assert ex["ambiguous"].tolist() == with_amb[0]["ambiguous"]


def test_stored_features_equal_generator(examples):
  config = st.make_config("tiny")
  for split in st.SPLITS:
    for ex, (timing, feats, _) in zip(examples[split],
                                      st.generate_split(config, split)):
      assert _vid(ex) == timing.video
      for m in MODS:
        assert ex[m].tobytes() == feats[m].tobytes()


def test_same_seed_identical_other_seed_differs(tmp_path, examples):
  again = st.build(str(tmp_path / "a"), "tiny")
  other = st.build(str(tmp_path / "b"), "tiny", seed=1)
  assert other.endswith(os.path.join("tiny_seed1", "1.0.0"))
  src_a = tfds.builder_from_directory(again).as_data_source("train")
  src_b = tfds.builder_from_directory(other).as_data_source("train")
  for i, ex in enumerate(examples["train"]):
    a, b = src_a[i], src_b[i]
    for m in MODS:
      assert a[m].tobytes() == ex[m].tobytes()
      assert not np.array_equal(b[m], ex[m])
    np.testing.assert_array_equal(b["segments"], ex["segments"])


def test_overwrite_rebuilds(tmp_path):
  out = st.build(str(tmp_path), "tiny")
  marker = os.path.join(out, "dataset_info.json")
  mtime = os.path.getmtime(marker)
  assert st.build(str(tmp_path), "tiny") == out
  assert os.path.getmtime(marker) == mtime
  assert st.build(str(tmp_path), "tiny", overwrite=True) == out
  assert st.is_built(str(tmp_path), "tiny")
  assert len(tfds.builder_from_directory(out).as_data_source("test")) == 12


# --- Statistical checks: the signal is where the generative model puts it.


def _snippet_labels(ex):
  """Class per snippet from the stored segments: c if the snippet centre is
  inside instances of class c only, C if no instance is within a snippet,
  -1 (ignored) otherwise."""
  num_t = ex["rgb"].shape[0]
  centre = (np.arange(num_t) + 0.5) * SPS
  labels = np.full(num_t, C)
  near = np.zeros(num_t, bool)
  for (s, e), c in zip(ex["segments"], ex["segment_labels"]):
    inside = (centre >= s) & (centre <= e)
    near |= (centre >= s - SPS) & (centre <= e + SPS)
    labels[inside & (labels != C) & (labels != c)] = -1
    labels[inside & (labels == C)] = c
  labels[near & (labels == C)] = -1
  return labels


def _stack(exs, mods):
  x = np.concatenate([np.concatenate([ex[m] for m in mods], 1) for ex in exs])
  y = np.concatenate([_snippet_labels(ex) for ex in exs])
  return x, y


def _nearest_centroid(x_tr, y_tr, x_te):
  """Nearest class mean on per-dimension standardised features."""
  mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-6
  z_tr, z_te = (x_tr - mu) / sd, (x_te - mu) / sd
  means = np.stack([z_tr[y_tr == k].mean(0) for k in range(C + 1)
                    if (y_tr == k).any()])
  classes = np.array([k for k in range(C + 1) if (y_tr == k).any()])
  dist = ((z_te[:, None, :] - means[None]) ** 2).sum(-1)
  return classes[np.argmin(dist, 1)]


def _balanced_accuracy(pred, y):
  act, bg = (y >= 0) & (y < C), y == C
  return 0.5 * (np.mean(pred[act] == y[act]) + np.mean(pred[bg] == y[bg]))


def _probe(examples, mods):
  x_tr, y_tr = _stack(examples["train"], mods)
  x_te, y_te = _stack(examples["test"], mods)
  keep = y_tr >= 0
  return _nearest_centroid(x_tr[keep], y_tr[keep], x_te), y_te


def test_fused_modalities_beat_cluttered_single_modality(examples):
  acc = {}
  for mods in (("rgb",), ("flow",), ("audio",), MODS):
    pred, y = _probe(examples, mods)
    acc["+".join(mods)] = _balanced_accuracy(pred, y)
  # Chance is 1/21 on actions; every visual modality is far above it.
  assert acc["rgb"] > 0.5 and acc["flow"] > 0.4
  assert acc["rgb+flow+audio"] > acc["flow"] + 0.1
  assert acc["rgb+flow+audio"] > acc["audio"] + 0.3
  # RGB is the strongest single modality; plain fusion adds little to it on
  # snippets (the gain is in choosing per snippet, tested below).
  assert acc["rgb+flow+audio"] > acc["rgb"] - 0.02


def test_clutter_stretches_hurt_their_own_modality(examples):
  """Per modality, snippets inside its clutter stretches (from the latents)
  are classified much worse than its clean snippets."""
  config = st.make_config("tiny")
  world = st.make_world(config)
  plan = st.plan(config)
  lat = [sm.video_latents(world, t, "test", SPS) for t in plan["test"]]
  for m in ("rgb", "flow"):
    pred, y = _probe(examples, (m,))
    clutter = np.concatenate([l.clutter_T[m] for l in lat])
    act = (y >= 0) & (y < C)
    clean_acc = np.mean(pred[act & ~clutter] == y[act & ~clutter])
    clutter_acc = np.mean(pred[act & clutter] == y[act & clutter])
    assert clutter.mean() > 0.05
    assert clean_acc > clutter_acc + 0.3, (m, clean_acc, clutter_acc)


def test_picking_reliable_modality_beats_concatenation(examples):
  """Replacing each cluttered modality by its mean (an oracle gate) beats
  plain concatenation: the per-snippet choice of modality carries signal."""
  config = st.make_config("tiny")
  world = st.make_world(config)
  plan = st.plan(config)

  def gated(split):
    parts = []
    for ex, t in zip(examples[split], plan[split]):
      lat = sm.video_latents(world, t, split, SPS)
      parts.append({m: ex[m] for m in MODS} | {
          f"{m}_clutter": lat.clutter_T[m] for m in MODS})
    return parts

  means = {m: np.concatenate([ex[m] for ex in examples["train"]]).mean(0)
           for m in MODS}

  def stack(split):
    xs = []
    for p in gated(split):
      xs.append(np.concatenate(
          [np.where(p[f"{m}_clutter"][:, None], means[m], p[m])
           for m in MODS], 1))
    return np.concatenate(xs)

  y_tr = np.concatenate([_snippet_labels(ex) for ex in examples["train"]])
  y_te = np.concatenate([_snippet_labels(ex) for ex in examples["test"]])
  keep = y_tr >= 0
  pred_gate = _nearest_centroid(stack("train")[keep], y_tr[keep], stack("test"))
  pred_cat, _ = _probe(examples, MODS)
  gate_acc = _balanced_accuracy(pred_gate, y_te)
  cat_acc = _balanced_accuracy(pred_cat, y_te)
  assert gate_acc > cat_acc + 0.03, (gate_acc, cat_acc)
