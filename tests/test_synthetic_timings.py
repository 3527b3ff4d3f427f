"""The packaged THUMOS14 timings, their derivation, and video selection."""

import json
import os

import numpy as np
import pytest

from data_prep import derive_thumos_timings as derive
from data_prep import synthetic_thumos
from data_prep import timings as timings_lib

_RESOURCE = os.path.join(os.path.dirname(__file__), "..", "data_prep",
                         timings_lib.TIMINGS_RESOURCE)


@pytest.fixture(scope="module")
def raw():
  with open(_RESOURCE, encoding="utf-8") as f:
    return json.load(f)


@pytest.fixture(scope="module")
def annotations_dir(shared_dir):
  return os.path.join(shared_dir, "data", "Thumos14reduced-Annotations")


def test_shipped_file_equals_fresh_derivation(annotations_dir):
  fresh = derive.format_timings(derive.read_wtalc_annotations(annotations_dir))
  with open(_RESOURCE, encoding="utf-8") as f:
    assert f.read() == fresh


def test_shipped_values_match_raw_annotations_exactly(annotations_dir, raw):
  """Checks the file against the .npy pickles read here, value by value."""
  load = lambda n: np.load(os.path.join(annotations_dir, n), allow_pickle=True)
  names = [v.decode() for v in load("videoname.npy")]
  subsets = [v.decode() for v in load("subset.npy")]
  segments, labels = load("segments.npy"), load("labels.npy")
  durations = load("duration.npy").reshape(-1)
  classes = [c.decode() for c in load("classlist.npy")]
  assert raw["class_names"] == classes
  shipped = {v["video"]: v for s in raw["splits"].values() for v in s}
  assert len(shipped) == len(names)
  for i, name in enumerate(names):
    v = shipped[name]
    split = "train" if subsets[i] == "validation" else "test"
    assert v in raw["splits"][split]
    assert v["duration"] == durations[i]  # exact float equality
    assert v["segments"] == [list(map(float, s)) for s in segments[i]]
    assert [classes[l] for l in v["labels"]] == list(labels[i])


def test_full_counts_from_timings_file(raw):
  counts = {s: (len(v), sum(len(x["segments"]) for x in v))
            for s, v in raw["splits"].items()}
  assert counts == {"train": (200, 3007), "test": (212, 3358)}
  assert len(raw["class_names"]) == 20


def test_full_plan_keeps_every_video_and_instance(raw):
  plan = synthetic_thumos.plan(synthetic_thumos.make_config("full"))
  for split, videos in plan.items():
    names = [x["video"] for x in raw["splits"][split]]
    assert [v.video for v in videos] == names
    assert sum(v.num_instances for v in videos) == sum(
        len(x["segments"]) for x in raw["splits"][split])


def test_ambiguous_only_for_test_videos(raw):
  assert all(not v["ambiguous"] for v in raw["splits"]["train"])
  assert sum(len(v["ambiguous"]) for v in raw["splits"]["test"]) > 0


@pytest.mark.parametrize("duration", [0.1, 0.64, 0.65, 61.44, 96 * 0.64,
                                      155.3, 1673.4273469])
def test_video_length_covers_duration(duration):
  sps = synthetic_thumos.SECONDS_PER_SNIPPET
  t = timings_lib.video_length(duration, sps)
  assert t * sps >= duration - 1e-6
  assert (t - 1) * sps < duration - 1e-6 or t == 1


def test_tiny_selection_is_exact_crop_of_real_timings(raw):
  config = synthetic_thumos.make_config("tiny")
  crop_s = config.max_snippets * synthetic_thumos.SECONDS_PER_SNIPPET
  plan = synthetic_thumos.plan(config)
  assert {s: len(v) for s, v in plan.items()} == {
      "train": config.num_train, "test": config.num_test}
  for split, videos in plan.items():
    source = {v["video"]: v for v in raw["splits"][split]}
    for v in videos:
      orig = source[v.video]
      assert v.duration == min(orig["duration"], crop_s)
      kept = [s for s in orig["segments"] if s[1] <= v.duration]
      assert v.segments_Nx2.tolist() == kept
      assert v.labels_N.tolist() == [
          l for s, l in zip(orig["segments"], orig["labels"])
          if s[1] <= v.duration]
      assert v.num_instances > 0
      assert timings_lib.video_length(
          v.duration, synthetic_thumos.SECONDS_PER_SNIPPET) <= 96
  # Class-balanced: the 24 train videos cover all 20 classes.
  train_classes = {int(l) for v in plan["train"] for l in v.labels_N}
  assert train_classes == set(range(20))


def test_select_videos_refuses_impossible_request():
  videos = timings_lib.load_thumos14_timings().splits["train"]
  with pytest.raises(ValueError, match="only"):
    timings_lib.select_videos(videos, 201, 20)


def test_bad_annotations_get_clear_errors(tmp_path, annotations_dir):
  for name in os.listdir(annotations_dir):
    os.symlink(os.path.join(annotations_dir, name), tmp_path / name)
  labels = np.load(os.path.join(annotations_dir, "labels.npy"),
                   allow_pickle=True)
  labels[3] = ["NotAClass"] + list(labels[3][1:])
  os.remove(tmp_path / "labels.npy")
  np.save(tmp_path / "labels.npy", labels, allow_pickle=True)
  with pytest.raises(ValueError, match="video_validation_0000054.*NotAClass"):
    derive.read_wtalc_annotations(str(tmp_path))


def test_bad_ambiguous_line_names_file_and_line(tmp_path):
  path = tmp_path / "Ambiguous_test.txt"
  path.write_text("video_test_0000001 1.0 2.0\nvideo_test_0000002 5.0\n")
  with pytest.raises(ValueError, match=r"Ambiguous_test.txt:2"):
    derive.read_ambiguous(str(path))


def test_missing_annotation_file_says_what_to_fix(tmp_path):
  with pytest.raises(FileNotFoundError, match="--annotations"):
    derive.read_wtalc_annotations(str(tmp_path))


def test_overlong_instances_are_kept_and_noted(raw):
  late = [(v["video"], s) for split in raw["splits"].values() for v in split
          for s in v["segments"] if s[1] > v["duration"]]
  assert late  # THUMOS14's duration.npy is short for a few videos
  assert sum(int(n.split(": ")[2].split()[0]) for n in raw["notes"]
             if n.startswith("kept as annotated")) == len(late)
