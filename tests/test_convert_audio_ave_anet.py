"""Audio alignment against a NumPy reference; AVE and ActivityNet1.2
conversion; snippet-accuracy evaluation."""

import os

import numpy as np
import pytest

import convert_fixtures as cf
from data_prep import activitynet12
from data_prep import annotations as ann_lib
from data_prep import audio as audio_lib
from data_prep import ave
from wtal_jax.data.source import FeatureDataset
from wtal_jax.evaluation import snippet_eval


def _reference_align(audio, hop, t, sps):
  # Per dimension: np.interp over the audio frame centres (it holds the
  # end values outside them).
  centres_a = (np.arange(audio.shape[0]) + 0.5) * hop
  centres_v = (np.arange(t) + 0.5) * sps
  return np.stack([np.interp(centres_v, centres_a, audio[:, d])
                   for d in range(audio.shape[1])], axis=1)


@pytest.mark.parametrize("seed", range(6))
def test_alignment_matches_reference(seed):
  rng = np.random.default_rng(seed)
  hop = rng.choice([0.96, 1.0, 0.5, 0.64])
  sps = rng.choice([0.64, 1.0, 0.32])
  t = int(rng.integers(1, 60))
  t_a = max(1, int(round(t * sps / hop)) + int(rng.integers(-3, 4)))
  audio = rng.normal(size=(t_a, 5)).astype(np.float32)
  got = audio_lib.align_to_snippets(audio, hop, t, sps)
  assert got.shape == (t, 5) and got.dtype == np.float32
  np.testing.assert_allclose(got, _reference_align(audio, hop, t, sps),
                             rtol=1e-5, atol=1e-5)
  # Interpolation never leaves the range of the audio.
  assert got.min() >= audio.min() - 1e-5 and got.max() <= audio.max() + 1e-5


def test_alignment_identity_on_equal_grids():
  audio = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
  np.testing.assert_array_equal(
      audio_lib.align_to_snippets(audio, 1.0, 10, 1.0), audio)


AVE_CLASSES = ("Church bell", "Dog", "Violin")
AVE_LINES = {
    "train": [("Dog", "aaa", 0, 10), ("Violin", "bbb", 2, 7),
              ("Church bell", "ccc", 5, 10), ("Dog", "ddd", 1, 4)],
    "val": [("Violin", "eee", 0, 3)],
    "test": [("Church bell", "fff", 3, 9), ("Dog", "ggg", 0, 10)],
}


def _write_ave(root, lines=AVE_LINES, visual_dim=6):
  os.makedirs(root / "features" / "visual", exist_ok=True)
  rng = np.random.default_rng(0)
  header = "Category&VideoID&Quality&StartTime&EndTime\n"
  everything = [l for ls in lines.values() for l in ls]
  for name, rows in [("Annotations.txt", everything)] + [
      (ave.SPLIT_FILES[s], ls) for s, ls in lines.items()]:
    with open(root / name, "w") as f:
      f.write(header + "".join(f"{c}&{v}&good&{s}&{e}\n"
                               for c, v, s, e in rows))
  audio = {}
  for _, v, _, _ in everything:
    np.save(root / "features" / "visual" / f"{v}.npy",
            cf.random_features(rng, 10, visual_dim))
    audio[v] = 10.0
  cf.write_audio(str(root / "features" / "audio"), audio, hop=1.0,
                 dim=cf.AUDIO_DIM)


def test_ave_conversion(tmp_path):
  _write_ave(tmp_path)
  np.save(tmp_path / "features" / "visual" / "zzz.npy",
          np.ones((10, 6), np.float32))
  result = ave.build(str(tmp_path / "tfds"), ave.AveOptions(
      ave_dir=str(tmp_path), audio_dim=cf.AUDIO_DIM))
  ds = FeatureDataset(result.builder_dir)
  assert ds.split_names == ("train", "val", "test")
  assert ds.meta.class_names == AVE_CLASSES
  assert ds.meta.has_snippet_labels
  assert ds.meta.modality_dims == {"rgb": 6, "audio": cf.AUDIO_DIM}
  ex = ds.split("train")[1]
  assert ex["video_id"] == "bbb"
  bg = len(AVE_CLASSES)
  np.testing.assert_array_equal(ex["snippet_labels"],
                                [bg, bg, 2, 2, 2, 2, 2, bg, bg, bg])
  np.testing.assert_array_equal(ex["segments"], [[2.0, 7.0]])
  np.testing.assert_array_equal(
      ex["audio"], np.load(tmp_path / "features" / "audio" / "bbb.npy"))
  assert [s["video"] for s in result.summary["skipped"]] == ["zzz"]
  # The stored labels follow the rule snippet accuracy derives from segments.
  np.testing.assert_array_equal(
      ex["snippet_labels"], snippet_eval.labels_from_segments(
          ex["segments"], ex["segment_labels"], 10, 1.0, bg))


def _add_ave_video(root, split_file, line, video):
  with open(root / split_file, "a") as f:
    f.write(line + "\n")
  np.save(root / "features" / "visual" / f"{video}.npy",
          np.ones((10, 6), np.float32))
  np.save(root / "features" / "audio" / f"{video}.npy",
          np.ones((10, cf.AUDIO_DIM), np.float32))


def test_ave_label_not_in_class_list(tmp_path):
  _write_ave(tmp_path)
  _add_ave_video(tmp_path, "testSet.txt", "Piano&hhh&good&0&10", "hhh")
  with pytest.raises(ave.validation.BadVideoError) as err:
    ave.build(str(tmp_path / "tfds"), ave.AveOptions(
        ave_dir=str(tmp_path), audio_dim=cf.AUDIO_DIM))
  assert (err.value.video, err.value.field) == ("hhh", "labels")
  assert "Piano" in str(err.value)


def test_ave_segment_outside_the_video(tmp_path):
  _write_ave(tmp_path)
  _add_ave_video(tmp_path, "valSet.txt", "Dog&iii&good&3&12", "iii")
  with pytest.raises(ave.validation.BadVideoError) as err:
    ave.build(str(tmp_path / "tfds"), ave.AveOptions(
        ave_dir=str(tmp_path), audio_dim=cf.AUDIO_DIM))
  assert (err.value.video, err.value.field) == ("iii", "segments")
  with pytest.raises(ave.validation.DataError, match="nope.txt is missing"):
    ave.read_ave_list(str(tmp_path / "nope.txt"))


def test_activitynet_real_annotations(shared_dir):
  anns = ann_lib.read_wtalc(
      cf.shared_data(shared_dir, "ActivityNet1.2-Annotations"),
      activitynet12.SUBSET_TO_SPLIT)
  assert len(anns.class_names) == 100
  assert len(anns.splits["train"]) == 4819
  assert len(anns.splits["test"]) == 2383


def test_activitynet_conversion_on_real_videos(shared_dir, tmp_path):
  # A sample of the real annotation rows (with zero-length and overlong
  # instances) written back in the W-TALC layout.
  src = cf.shared_data(shared_dir, "ActivityNet1.2-Annotations")
  load = lambda n: np.load(os.path.join(src, n), allow_pickle=True)
  names, subsets = load("videoname.npy"), load("subset.npy")
  segs, labels, durs = load("segments.npy"), load("labels.npy"), load(
      "duration.npy").reshape(-1)
  pick = [i for i, n in enumerate(names)
          if n in (b"video_68", b"video_887", b"video_5090")]
  pick += list(range(0, 40)) + [i for i in range(len(names))
                                if subsets[i] == b"validation"][:20]
  pick = sorted(set(pick))
  videos = [{"video": names[i].decode(), "subset": subsets[i].decode(),
             "duration": float(durs[i]), "segments": segs[i],
             "labels": [l.decode() if isinstance(l, bytes) else l
                        for l in labels[i]]} for i in pick]
  classes = [c.decode() for c in load("classlist.npy")]
  ann = str(tmp_path / "ann")
  cf.write_wtalc_annotations(ann, videos, classes)
  feats = str(tmp_path / "ActivityNet1.2-I3D-JOINTFeatures.npy")
  cf.write_wtalc_features(feats, ann)
  result = activitynet12.build(str(tmp_path / "tfds"),
                               activitynet12.ActivityNet12Options(
                                   features=feats, annotations=ann,
                                   stream_dim=cf.STREAM_DIM))
  want = {s: sum(1 for v in videos if activitynet12.SUBSET_TO_SPLIT[
      v["subset"]] == s) for s in ("train", "test")}
  got = result.summary["splits"]
  assert {s: got[s]["videos"] for s in want} == want
  assert sum(c["instances"] for c in got.values()) == sum(
      len(v["segments"]) for v in videos)
  kinds = {(w["video"], w["kind"]) for w in result.summary["warnings"]}
  assert ("video_887", "zero-length segment") in kinds
  # video_68 ends 0.3 ms after its annotated duration but inside its
  # feature grid (195 snippets = 124.8 s), so it is inside the video.
  assert ("video_68", "segment outside the video") not in kinds


def test_labels_from_segments_matches_loop():
  rng = np.random.default_rng(3)
  for _ in range(20):
    t, sps, c = int(rng.integers(1, 40)), float(rng.choice([0.64, 1.0])), 4
    n = int(rng.integers(0, 5))
    starts = rng.uniform(0, t * sps, n)
    segs = np.stack([starts, starts + rng.uniform(0, 10, n)], 1)
    labs = rng.integers(0, c, n)
    want = np.full(t, c)
    for i in range(t):
      centre = (i + 0.5) * sps
      for (s, e), l in zip(segs, labs):
        if s <= centre < e:
          want[i] = l
    np.testing.assert_array_equal(
        snippet_eval.labels_from_segments(segs, labs, t, sps, c), want)


def test_selection_metric():
  import ml_collections  # pylint: disable=g-import-not-at-top
  cfg = ml_collections.ConfigDict({"metric": "snippet_accuracy"})
  assert snippet_eval.selection_metric(cfg) == "snippet_acc"
  assert snippet_eval.selection_metric(ml_collections.ConfigDict()) == (
      "avg_map")
  with pytest.raises(ValueError, match="eval.metric"):
    snippet_eval.selection_metric(ml_collections.ConfigDict({"metric": "x"}))
