"""Every kind of bad input gets an error naming the video and field, or a
written report entry; nothing is dropped silently."""

import copy
import json
import os

import numpy as np
import pytest

import convert_fixtures as cf
from data_prep import convert
from data_prep import thumos14
from data_prep.validation import BadVideoError, DataError
from wtal_jax.data.source import FeatureDataset

CLASSES = ("Alpha", "Beta")
VIDEOS = (
    {"video": "video_validation_01", "subset": "validation", "duration": 20.0,
     "segments": [[2.0, 5.0]], "labels": ["Alpha"]},
    {"video": "video_validation_02", "subset": "validation", "duration": 15.0,
     "segments": [[1.0, 3.0], [6.0, 9.0]], "labels": ["Alpha", "Beta"]},
    {"video": "video_test_01", "subset": "test", "duration": 12.0,
     "segments": [[0.5, 4.0]], "labels": ["Beta"]},
    {"video": "video_test_02", "subset": "test", "duration": 10.0,
     "segments": [[2.0, 6.0]], "labels": ["Alpha"]},
)
BAD = 2  # Index of the video the bad-feature tests corrupt (video_test_01).


def _release(tmp_path, videos=VIDEOS, overrides=None, drop_last=0):
  ann = str(tmp_path / "ann")
  cf.write_wtalc_annotations(ann, videos, CLASSES)
  feats = str(tmp_path / "feats.npy")
  cf.write_wtalc_features(feats, ann, overrides=overrides,
                          drop_last=drop_last)
  return ann, feats


def _build(tmp_path, ann, feats, **options):
  return thumos14.build(str(tmp_path / "tfds"), thumos14.Thumos14Options(
      layout="wtalc", features=feats, annotations=ann,
      stream_dim=cf.STREAM_DIM, **options), overwrite=True)


def _bad_rows(kind):
  t = cf.video_length(VIDEOS[BAD]["duration"])
  rows = cf.random_features(np.random.default_rng(5), t, 2 * cf.STREAM_DIM)
  if kind == "nan":
    rows[3, 1] = np.nan
  elif kind == "inf":
    rows[4, cf.STREAM_DIM + 1] = np.inf
  elif kind == "zeros":
    rows[:] = 0.0
  elif kind == "empty":
    rows = rows[:0]
  elif kind == "width":
    rows = rows[:, :-1]
  elif kind == "flow_zeros":
    rows[:, cf.STREAM_DIM:] = 0.0
  return rows


def test_clean_release_builds(tmp_path):
  ann, feats = _release(tmp_path)
  result = _build(tmp_path, ann, feats)
  assert result.summary["splits"]["train"] == {"videos": 2, "instances": 3,
                                               "classes": 2}
  assert result.summary["skipped"] == [] and result.summary["warnings"] == []


@pytest.mark.parametrize("kind,field,words", [
    ("nan", "rgb", "NaN/inf"),
    ("inf", "flow", "NaN/inf"),
    ("zeros", "rgb", "no snippets"),
    ("empty", "rgb", "no snippets"),
    ("width", "rgb+flow", f"(T, {2 * cf.STREAM_DIM})"),
    ("flow_zeros", "flow", "zeros"),
])
def test_bad_features_raise_naming_video_and_field(tmp_path, kind, field,
                                                   words):
  ann, feats = _release(tmp_path, overrides={BAD: _bad_rows(kind)})
  with pytest.raises(BadVideoError) as err:
    _build(tmp_path, ann, feats)
  assert err.value.video == VIDEOS[BAD]["video"]
  assert err.value.field == field
  assert words in str(err.value) and "test/video_test_01" in str(err.value)


@pytest.mark.parametrize("kind", ["nan", "zeros", "width"])
def test_bad_features_are_reported_when_skipping(tmp_path, kind):
  ann, feats = _release(tmp_path, overrides={BAD: _bad_rows(kind)})
  result = _build(tmp_path, ann, feats, on_bad_video="skip")
  assert [(s["split"], s["video"]) for s in result.summary["skipped"]] == [
      ("test", VIDEOS[BAD]["video"])]
  assert result.summary["splits"]["test"]["videos"] == 1
  report = json.load(open(os.path.join(result.builder_dir,
                                       convert.REPORT_JSON)))
  assert report["skipped"][0]["reason"] == result.summary["skipped"][0][
      "reason"]
  # The skip is in the dataset's metadata too.
  assert FeatureDataset(result.builder_dir).meta.skipped[0]["video"] == (
      VIDEOS[BAD]["video"])


def test_missing_files(tmp_path):
  ann, feats = _release(tmp_path)
  with pytest.raises(DataError, match="missing.*W-TALC features file"):
    _build(tmp_path, ann, str(tmp_path / "nope.npy"))
  os.remove(os.path.join(ann, "segments.npy"))
  with pytest.raises(DataError, match="segments.npy is missing"):
    _build(tmp_path, ann, feats)


def test_annotated_videos_without_features_and_the_reverse(tmp_path):
  ann, feats = _release(tmp_path, drop_last=1)
  with pytest.raises(DataError, match="holds 3 videos but .* lists 4: some "
                     "annotated videos have no features"):
    _build(tmp_path, ann, feats)
  ann, feats = _release(tmp_path, videos=VIDEOS[:3])
  cf.write_wtalc_features(feats, str(tmp_path / "ann"))
  extra = np.load(feats, allow_pickle=True)
  grown = np.empty(4, dtype=object)
  grown[:3] = list(extra)
  grown[3] = extra[0]
  np.save(feats, grown, allow_pickle=True)
  with pytest.raises(DataError, match="some feature rows have no annotation"):
    _build(tmp_path, ann, feats)


def _with(videos, index, **fields):
  out = copy.deepcopy(list(videos))
  out[index].update(fields)
  return out


def test_label_not_in_class_list(tmp_path):
  ann, feats = _release(tmp_path, videos=_with(VIDEOS, 1,
                                               labels=["Alpha", "Gamma"]))
  with pytest.raises(BadVideoError, match=r"\['Gamma'\] not in the class"):
    _build(tmp_path, ann, feats)
  result = _build(tmp_path, ann, feats, on_bad_video="skip")
  assert result.summary["skipped"][0]["video"] == "video_validation_02"
  assert "labels" in result.summary["skipped"][0]["reason"]


def test_segment_with_end_before_start(tmp_path):
  ann, feats = _release(tmp_path, videos=_with(VIDEOS, 0,
                                               segments=[[5.0, 2.0]]))
  with pytest.raises(BadVideoError) as err:
    _build(tmp_path, ann, feats)
  assert err.value.field == "segments" and "end < start" in str(err.value)
  assert err.value.video == "video_validation_01"


def test_segments_outside_the_video(tmp_path):
  videos = _with(VIDEOS, 3, segments=[[2.0, 6.0], [9.0, 30.0]],
                 labels=["Alpha", "Beta"])
  ann, feats = _release(tmp_path, videos=videos)
  kept = _build(tmp_path, ann, feats)
  assert kept.summary["splits"]["test"]["instances"] == 3
  (warning,) = kept.summary["warnings"]
  assert warning["video"] == "video_test_02"
  assert warning["kind"] == "segment outside the video"
  assert "[9.0, 30.0]" in warning["detail"]
  dropped = _build(tmp_path, ann, feats, out_of_video="drop")
  assert dropped.summary["splits"]["test"]["instances"] == 2
  assert "dropped" in dropped.summary["warnings"][0]["detail"]
  ex = FeatureDataset(dropped.builder_dir).split("test")[1]
  np.testing.assert_array_equal(ex["segments"], [[2.0, 6.0]])
  with pytest.raises(BadVideoError, match="outside the video"):
    _build(tmp_path, ann, feats, out_of_video="error")
  negative = _with(VIDEOS, 0, segments=[[-3.0, 1.0]])
  ann, feats = _release(tmp_path, videos=negative)
  with pytest.raises(BadVideoError, match="outside the video"):
    _build(tmp_path, ann, feats, out_of_video="error")


def test_every_video_skipped_is_an_error(tmp_path):
  overrides = {i: np.zeros((0, 2 * cf.STREAM_DIM), np.float32)
               for i in (2, 3)}
  ann, feats = _release(tmp_path, overrides=overrides)
  with pytest.raises(DataError, match="every video of split 'test'"):
    _build(tmp_path, ann, feats, on_bad_video="skip")


def _audio_release(tmp_path, audio_seconds):
  ann, feats = _release(tmp_path)
  lengths = {v["video"]: cf.video_length(v["duration"]) * cf.SPS
             for v in VIDEOS}
  lengths.update(audio_seconds)
  cf.write_audio(str(tmp_path / "audio"), lengths)
  return ann, feats


def _build_audio(tmp_path, ann, feats, **options):
  return _build(tmp_path, ann, feats, audio_dir=str(tmp_path / "audio"),
                audio_dim=cf.AUDIO_DIM, **options)


@pytest.mark.parametrize("seconds,word", [(3.0, "shorter"), (60.0, "longer")])
def test_audio_much_shorter_or_longer_is_refused(tmp_path, seconds, word):
  ann, feats = _audio_release(tmp_path, {"video_validation_02": seconds})
  with pytest.raises(BadVideoError) as err:
    _build_audio(tmp_path, ann, feats)
  assert err.value.field == "audio" and f"much {word}" in str(err.value)
  assert "video 24 snippets" in str(err.value)  # Both lengths are named.
  assert "audio" in str(err.value) and "frames" in str(err.value)


def test_audio_off_by_more_than_a_hop_is_aligned_and_reported(tmp_path):
  # 15.36 s of video; 17.28 s of audio: 1.9 s more, within the tolerance.
  ann, feats = _audio_release(tmp_path, {"video_validation_02": 17.28})
  result = _build_audio(tmp_path, ann, feats)
  (warning,) = result.summary["warnings"]
  assert warning["kind"] == "audio length"
  assert "18 frames" in warning["detail"] and "24 snippets" in warning["detail"]
  ex = FeatureDataset(result.builder_dir).split("train")[1]
  assert ex["audio"].shape == (24, cf.AUDIO_DIM)


def test_missing_audio_file(tmp_path):
  ann, feats = _audio_release(tmp_path, {})
  os.remove(tmp_path / "audio" / "video_test_02.npy")
  with pytest.raises(BadVideoError, match="no audio features"):
    _build_audio(tmp_path, ann, feats)
  result = _build_audio(tmp_path, ann, feats, on_bad_video="skip")
  assert result.summary["skipped"][0]["video"] == "video_test_02"


def _per_video_release(tmp_path):
  ann = str(tmp_path / "pv")
  database = {v["video"]: {"subset": "train" if "validation" in v["video"]
                           else "test",
                           "annotations": [{"segment": [str(s), str(e)],
                                            "label": l} for (s, e), l in
                                           zip(v["segments"], v["labels"])]}
              for v in VIDEOS}
  cf.write_gt_json(ann, database, {
      "train": [v["video"] for v in VIDEOS[:2]],
      "test": [v["video"] for v in VIDEOS[2:]]})
  cf.write_per_video_features(str(tmp_path / "features"), ann,
                              {v["video"]: v["duration"] for v in VIDEOS})
  return ann


def _build_per_video(tmp_path, ann, **options):
  return thumos14.build(str(tmp_path / "tfds"), thumos14.Thumos14Options(
      layout="per_video", features=str(tmp_path / "features"),
      annotations=ann, stream_dim=cf.STREAM_DIM, **options), overwrite=True)


def test_per_video_missing_and_unannotated_feature_files(tmp_path):
  ann = _per_video_release(tmp_path)
  os.remove(tmp_path / "features" / "test" / "flow" / "video_test_01.npy")
  with pytest.raises(BadVideoError) as err:
    _build_per_video(tmp_path, ann)
  assert (err.value.video, err.value.field) == ("video_test_01", "flow")
  np.save(tmp_path / "features" / "train" / "rgb" / "video_extra.npy",
          np.ones((5, cf.STREAM_DIM), np.float32))
  result = _build_per_video(tmp_path, ann, on_bad_video="skip")
  skipped = {(s["split"], s["video"]): s["reason"]
             for s in result.summary["skipped"]}
  assert "not in split_train.txt" in skipped[("train", "video_extra")]
  assert "no feature file" in skipped[("test", "video_test_01")]


def test_per_video_wrong_width(tmp_path):
  ann = _per_video_release(tmp_path)
  np.save(tmp_path / "features" / "train" / "rgb" / "video_validation_02.npy",
          np.ones((24, cf.STREAM_DIM + 3), np.float32))
  with pytest.raises(BadVideoError, match="feature width 7, expected 4"):
    _build_per_video(tmp_path, ann)
