"""THUMOS14 converters on the real annotations with feature files written in
the W-TALC and per-video layouts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import convert_fixtures as cf
from convert_fixtures import thumos_release, thumos_wtalc_dataset  # pylint: disable=unused-import
from data_prep import convert
from data_prep import thumos14
from wtal_jax.data.source import FeatureDataset

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _annotation_arrays(ann_dir):
  load = lambda n: np.load(os.path.join(ann_dir, n), allow_pickle=True)
  names = [v.decode() for v in load("videoname.npy")]
  return names, load("subset.npy"), load("segments.npy"), load("labels.npy")


@pytest.fixture(scope="module")
def wtalc(thumos_wtalc_dataset):
  _, result = thumos_wtalc_dataset
  return result, FeatureDataset(result.builder_dir)


def test_wtalc_counts_match_the_public_annotations(wtalc):
  result, ds = wtalc
  assert result.built
  assert ds.split_names == ("train", "test")
  assert len(ds.split("train")) == 200 and len(ds.split("test")) == 212
  counts = result.summary["splits"]
  assert counts["train"] == {"videos": 200, "instances": 3007, "classes": 20}
  assert counts["test"] == {"videos": 212, "instances": 3358, "classes": 20}
  assert result.summary["skipped"] == []
  assert ds.meta.modality_dims == {"rgb": cf.STREAM_DIM, "flow": cf.STREAM_DIM}


def test_wtalc_records_round_trip_exactly(wtalc, thumos_release):
  _, ds = wtalc
  ann = thumos_release["wtalc_ann"]
  names, subsets, segments, labels = _annotation_arrays(ann)
  rows = np.load(thumos_release["wtalc_features"], allow_pickle=True)
  classes = [c.decode() for c in np.load(os.path.join(ann, "classlist.npy"))]
  split_of = {b"validation": "train", b"test": "test"}
  position = {s: 0 for s in split_of.values()}
  for i, video in enumerate(names):
    split = split_of[subsets[i]]
    ex = ds.split(split)[position[split]]
    position[split] += 1
    assert ex["video_id"] == video
    # Segments in seconds: bit-identical to the annotation file.
    want = np.asarray(segments[i], np.float64).reshape(-1, 2)
    assert ex["segments"].dtype == np.float64
    np.testing.assert_array_equal(ex["segments"], want)
    assert [classes[c] for c in ex["segment_labels"]] == [
        l.decode() if isinstance(l, bytes) else l for l in labels[i]]
    assert set(np.flatnonzero(ex["labels"])) == set(ex["segment_labels"])
    assert float(ex["seconds_per_snippet"]) == 16 / 25
    # Features: the written rows without their zero padding, RGB then flow.
    t = thumos_release["wtalc_lengths"][i]
    assert ex["rgb"].shape == (t, cf.STREAM_DIM)
    np.testing.assert_array_equal(ex["rgb"], rows[i][:t, :cf.STREAM_DIM])
    np.testing.assert_array_equal(ex["flow"], rows[i][:t, cf.STREAM_DIM:])


def test_wtalc_ambiguous_segments_are_stored(wtalc, thumos_release):
  _, ds = wtalc
  amb = {}
  with open(os.path.join(thumos_release["wtalc_ann"],
                         "Ambiguous_test.txt")) as f:
    for line in f:
      v, s, e = line.split()
      amb.setdefault(v, []).append([float(s), float(e)])
  test = ds.split("test")
  stored = {test[i]["video_id"]: test[i]["ambiguous"] for i in range(len(test))}
  for video, segs in amb.items():
    if video in stored:
      np.testing.assert_array_equal(stored[video], np.asarray(segs))
  assert sum(len(v) for v in stored.values()) == sum(
      len(s) for v, s in amb.items() if v in stored)


def test_wtalc_report_lists_instances_outside_their_video(wtalc):
  result, _ = wtalc
  with open(os.path.join(result.builder_dir, convert.REPORT_JSON)) as f:
    report = json.load(f)
  assert report["splits"] == result.summary["splits"]
  outside = {w["video"] for w in report["warnings"]
             if w["kind"] == "segment outside the video"}
  # The public annotations have instances past the annotated duration.
  assert {"video_test_0000270", "video_validation_0000364"} <= outside
  text = open(os.path.join(result.builder_dir, convert.REPORT_TXT)).read()
  assert "test: 212 videos, 3358 instances, 20 classes" in text


def test_per_video_layout(thumos_release, tmp_path):
  result = thumos14.build(str(tmp_path), thumos14.Thumos14Options(
      layout="per_video", features=thumos_release["per_video_features"],
      annotations=thumos_release["per_video_ann"], stream_dim=cf.STREAM_DIM))
  ds = FeatureDataset(result.builder_dir)
  assert len(ds.split("train")) == 200 and len(ds.split("test")) == 210
  assert result.summary["splits"]["train"]["instances"] == 3007
  with open(os.path.join(thumos_release["per_video_ann"], "gt.json")) as f:
    gt = json.load(f)["database"]
  test = ds.split("test")
  assert "video_test_0000270" not in test.index.video_ids
  for i in range(0, len(test), 7):
    ex = test[i]
    want = [[float(a["segment"][0]), float(a["segment"][1])]
            for a in gt[ex["video_id"]]["annotations"]]
    np.testing.assert_array_equal(ex["segments"], np.asarray(want))
    t = thumos_release["per_video_lengths"][ex["video_id"]]
    path = os.path.join(thumos_release["per_video_features"], "test", "rgb",
                        f"{ex['video_id']}.npy")
    np.testing.assert_array_equal(ex["rgb"], np.load(path))
    # No duration in gt.json: the video is its feature grid.
    assert float(ex["duration"]) == pytest.approx(t * 16 / 25)


def test_cli_builds_and_prints_the_summary(thumos_release, tmp_path):
  out = subprocess.run(
      [sys.executable, "-m", "data_prep.build", "thumos14", "--layout=wtalc",
       f"--features={thumos_release['wtalc_features']}",
       f"--annotations={thumos_release['wtalc_ann']}",
       f"--stream_dim={cf.STREAM_DIM}", f"--data_dir={tmp_path}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "train: 200 videos, 3007 instances, 20 classes" in out.stdout
  assert "test: 212 videos, 3358 instances, 20 classes" in out.stdout
  assert os.path.exists(tmp_path / "thumos14" / f"wtalc_dim{cf.STREAM_DIM}" /
                        "1.0.0" / convert.REPORT_JSON)
