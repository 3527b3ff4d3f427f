"""Localizer and python -m wtal_jax.predict on a trained :smoke run.

The round trip: the test split's features written to disk and predicted in a
fresh process with no dataset directory give exactly the segments
train_and_evaluate wrote to predictions.json from the same checkpoint.
"""

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from absl import flags

import predict_fixtures as pf
from data_prep import audio as audio_lib
from wtal_jax import Localizer, predict
from wtal_jax.inference import (BadVideoInput, MissingMetadataError,
                                NoCheckpointError, PredictInputError)
from wtal_jax.inference import inputs as inputs_lib
from wtal_jax.training import inference_file as metadata_lib
from wtal_jax.inference import report, sources


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("predict_run"))
  config = pf.train_smoke(data_dir, workdir)
  with open(os.path.join(workdir, "predictions.json"), encoding="utf-8") as f:
    reference = json.load(f)["results"]
  return workdir, pf.split_videos(config), reference


@pytest.fixture(scope="module")
def localizer(trained):
  return Localizer.from_workdir(trained[0])


@pytest.fixture(scope="module")
def features_dir(trained, tmp_path_factory):
  """The test split in the per-video layout, plus one bad video per kind."""
  _, videos, _ = trained
  folder = str(tmp_path_factory.mktemp("features"))
  pf.write_per_video(folder, videos)
  good = next(iter(videos.values()))
  pf.write_per_video(folder, {name: arrays for name, (_, arrays)
                              in pf.bad_videos(good).items()})
  return folder


def _records(segments):
  return [{"label": s.label, "score": s.score, "segment": [s.start, s.end]}
          for s in segments]


def test_predict_many_equals_the_runs_predictions(trained, localizer):
  _, videos, reference = trained
  preds = localizer.predict_many(videos)
  assert [v.video_id for v in preds.videos] == list(videos)
  assert sum(len(v.segments) for v in preds.videos) > 0
  for v in preds.videos:
    assert _records(v.segments) == reference.get(v.video_id, [])
    t = videos[v.video_id]["rgb"].shape[0]
    assert v.cas_TxC.shape == (t, len(localizer.class_names))
    assert v.foreground_T.shape == (t,)
    assert v.gate_probs and all(p.shape[0] == t for p in v.gate_probs.values())
    for gate, choice in v.gate_choices.items():
      assert choice.shape == (t,)
      assert set(choice.tolist()) <= set(range(v.gate_probs[gate].shape[1]))
  # The audio the model does not read is reported, not silently dropped.
  assert any("audio" in n and "not used" in n for n in preds.notes)


def test_fresh_process_without_dataset_skips_bad_videos(trained, features_dir,
                                                        tmp_path):
  _, videos, reference = trained
  # The run's config names no data directory, so any attempt to open (or
  # build) its dataset would go to the empty WTAL_JAX_DATA_DIR.
  workdir = tmp_path / "run"
  shutil.copytree(trained[0], workdir)
  config = json.loads((workdir / "config.json").read_text())
  config["data"]["data_dir"] = ""
  (workdir / "config.json").write_text(json.dumps(config))
  out = tmp_path / "segments.json"
  env = {**os.environ, "WTAL_JAX_DATA_DIR": str(tmp_path / "no_data"),
         "JAX_PLATFORMS": "cpu", "JAX_DISABLE_MOST_OPTIMIZATIONS": "1"}
  os.makedirs(env["WTAL_JAX_DATA_DIR"])
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.predict", f"--workdir={workdir}",
       f"--inputs={features_dir}", f"--output={out}", "--on_bad_video=skip",
       "--rows=2"],
      cwd=pf.ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads(out.read_text())
  assert list(result["results"]) == list(videos)
  for video, segments in result["results"].items():
    assert segments == reference.get(video, []), video
  skipped = {s["video"]: s for s in result["report"]["skipped"]}
  expected = pf.bad_videos(next(iter(videos.values())))
  assert set(skipped) == set(expected) == set(pf.BAD_KINDS)
  for name, (modality, _) in expected.items():
    assert skipped[name]["modality"] == modality, skipped[name]
  assert os.listdir(tmp_path / "no_data") == []
  first = next(iter(videos))
  assert first in proc.stdout and "skipped bad_nan: rgb" in proc.stdout


@pytest.mark.parametrize("name", pf.BAD_KINDS)
def test_each_bad_video_is_named_and_can_be_skipped(name, trained,
                                                    localizer):
  _, videos, _ = trained
  modality, arrays = pf.bad_videos(next(iter(videos.values())))[name]
  with pytest.raises(BadVideoInput) as e:
    localizer.predict(arrays, video_id=name)
  assert e.value.video == name and e.value.modality == modality
  assert f"video {name!r}" in str(e.value) and "Fix:" in str(e.value)
  # Skipping keeps the other videos.
  good_id = next(iter(videos))
  preds = localizer.predict_many({name: arrays, good_id: videos[good_id]},
                                 on_bad_video="skip")
  assert [v.video_id for v in preds.videos] == [good_id]
  assert [s["video"] for s in preds.skipped] == [name]


def test_cli_stops_on_a_bad_video_with_one_line(trained, tmp_path, capsys):
  _, videos, _ = trained
  good_id = next(iter(videos))
  folder = str(tmp_path / "inputs")
  pf.write_per_video(folder, {good_id: videos[good_id]})
  pf.write_per_video(folder, {"bad_nan": pf.bad_videos(videos[good_id])[
      "bad_nan"][1]})
  rc = _cli(trained[0], f"--inputs={folder}",
            f"--output={tmp_path / 'out.json'}")
  err = capsys.readouterr().err.strip()
  assert rc == 2
  assert len(err.splitlines()) == 1, err
  assert "'bad_nan', modality 'rgb'" in err and "NaN" in err
  assert "--on_bad_video=skip" in err
  assert not (tmp_path / "out.json").exists()


def _cli(workdir, *args):
  """``python -m wtal_jax.predict`` in this process; returns the status."""
  flags.FLAGS.unparse_flags()
  argv = sys.argv
  sys.argv = ["predict", f"--workdir={workdir}", *args]
  try:
    predict.cli()
  except SystemExit as e:
    return e.code
  finally:
    sys.argv = argv
  raise AssertionError("predict.cli() returned without exiting")


def test_cli_refuses_a_workdir_without_checkpoint_or_metadata(trained,
                                                              tmp_path,
                                                              capsys):
  workdir = tmp_path / "run"
  workdir.mkdir()
  for name in ("config.json", metadata_lib.INFERENCE_FILE):
    shutil.copy(os.path.join(trained[0], name), workdir / name)
  args = (f"--inputs={tmp_path}", f"--output={tmp_path / 'o.json'}")
  assert _cli(str(workdir), *args) == 2
  err = capsys.readouterr().err
  assert "no checkpoint" in err.lower() and len(err.strip().splitlines()) == 1
  with pytest.raises(NoCheckpointError):
    Localizer.from_workdir(str(workdir))
  os.remove(workdir / metadata_lib.INFERENCE_FILE)
  assert _cli(str(workdir), *args) == 2
  assert "--write_metadata" in capsys.readouterr().err


def test_older_run_gets_metadata_recreated(trained, tmp_path, capsys):
  workdir = tmp_path / "old_run"
  shutil.copytree(trained[0], workdir)
  os.remove(workdir / metadata_lib.INFERENCE_FILE)
  with pytest.raises(MissingMetadataError, match="--write_metadata"):
    Localizer.from_workdir(str(workdir))
  assert _cli(str(workdir), "--write_metadata") == 0
  with open(workdir / metadata_lib.INFERENCE_FILE) as a, open(
      os.path.join(trained[0], metadata_lib.INFERENCE_FILE)) as b:
    assert json.load(a) == json.load(b)


def test_checkpoint_choices(trained, localizer):
  assert Localizer.from_workdir(trained[0], "latest").step == 2
  assert Localizer.from_workdir(trained[0], 1).step == 1
  assert localizer.step == 2  # The only evaluated checkpoint is the best.
  with pytest.raises(NoCheckpointError, match=r"steps \[1, 2\]"):
    Localizer.from_workdir(trained[0], 7)
  with pytest.raises(PredictInputError, match="best"):
    Localizer.from_workdir(trained[0], "newest")


def test_wtalc_file_and_single_video_inputs(trained, localizer, tmp_path):
  _, videos, reference = trained
  ids = list(videos)
  rows = np.empty(len(ids), dtype=object)
  for i, v in enumerate(ids):  # Trailing zero rows pad, as in W-TALC.
    joint = np.concatenate([videos[v]["rgb"], videos[v]["flow"]], -1)
    rows[i] = np.concatenate([joint, np.zeros((4, joint.shape[1]))])
  np.save(tmp_path / "Tiny-I3D-JOINTFeatures.npy", rows, allow_pickle=True)
  (tmp_path / "Tiny-Annotations").mkdir()
  np.save(tmp_path / "Tiny-Annotations" / "videoname.npy",
          np.array([v.encode() for v in ids], dtype=object))
  found = sources.open_inputs(str(tmp_path / "Tiny-I3D-JOINTFeatures.npy"),
                              localizer.metadata)
  assert found.layout == "wtalc"
  preds = localizer.predict_many(found.videos)
  assert {v.video_id: _records(v.segments) for v in preds.videos
          if v.segments} == reference
  # One video from its files: the API's answer for the same arrays.
  v = ids[1]
  for m in ("rgb", "flow"):
    np.save(tmp_path / f"{m}.npy", videos[v][m])
  out = tmp_path / "one.json"
  predict.run(trained[0], f"rgb={tmp_path / 'rgb.npy'},flow="
              f"{tmp_path / 'flow.npy'}", str(out), video_name=v,
              plots=str(tmp_path / "plots"), out=io.StringIO())
  one = localizer.predict({m: videos[v][m] for m in ("rgb", "flow")},
                          video_id=v)
  assert not one.notes
  assert any("audio" in n for n in localizer.predict(videos[v]).notes)
  assert json.loads(out.read_text())["results"] == {v: _records(one.segments)}
  other = localizer.predict_many({v: videos[v]}, seconds_per_snippet=1.0)
  assert any("differs from the training data's 0.64" in n
             for n in other.notes)
  assert other.videos[0].segments[0].end > one.segments[0].end
  with open(tmp_path / "plots" / f"{v}_cas.png", "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_audio_is_aligned_as_the_converter_aligns_it(localizer):
  meta = dataclasses.replace(
      localizer.metadata, modalities=("rgb+flow", "audio"),
      modality_dims={**localizer.metadata.modality_dims, "audio": 16})
  rng = np.random.default_rng(0)
  visual = {m: rng.random((50, 32), np.float32) + 0.1 for m in ("rgb", "flow")}
  audio = rng.random((34, 16), np.float32) + 0.1  # 34 x 0.96 s ~ 50 x 0.64 s
  video = inputs_lib.prepare_video(meta, "v", {**visual, "audio": audio},
                                   0.64, audio_hop_s=0.96)
  np.testing.assert_array_equal(
      video.features["audio"],
      audio_lib.align_to_snippets(audio, 0.96, 50, 0.64))
  on_grid = inputs_lib.prepare_video(
      meta, "v", {**visual, "audio": audio[:1].repeat(50, 0)}, 0.64, 0.64)
  np.testing.assert_array_equal(on_grid.features["audio"],
                                audio[:1].repeat(50, 0))
  with pytest.raises(BadVideoInput, match="audio much longer") as e:
    inputs_lib.prepare_video(meta, "v", {**visual, "audio": audio}, 0.64,
                             audio_hop_s=2.0)
  assert e.value.modality == "audio" and "--audio_hop" in e.value.fix
  with pytest.raises(BadVideoInput, match="missing"):
    inputs_lib.prepare_video(meta, "v", visual, 0.64)


@dataclasses.dataclass(frozen=True)
class _Stats:
  offset: dict
  mode: str

  def apply(self, name, x):
    return x - self.offset[name]


class _PlainStats:
  def __init__(self, table):
    self.table = table


def test_any_normaliser_round_trips_exactly(localizer):
  rng = np.random.default_rng(1)
  for stats in (_Stats({"rgb": rng.random(5, np.float32)}, "custom"),
                _PlainStats({"flow": rng.random(3, np.float32)})):
    meta = dataclasses.replace(localizer.metadata, normalizer=stats)
    back = metadata_lib.from_json(
        json.loads(json.dumps(metadata_lib.to_json(meta)))).normalizer
    assert type(back) is type(stats)
    for k, v in vars(stats).items():
      if isinstance(v, dict):
        for m in v:
          np.testing.assert_array_equal(getattr(back, k)[m], v[m])
          assert getattr(back, k)[m].dtype == v[m].dtype
      else:
        assert getattr(back, k) == v


def test_top_k_and_min_score_are_counted(localizer, trained):
  _, videos, _ = trained
  dets = localizer.predict_many(videos).detections
  kept = report.filter_detections(dets, top_k=2, min_score=0.2)
  assert kept.below_min_score == int((dets.score < 0.2).sum())
  assert (len(kept.detections) + kept.below_min_score + kept.beyond_top_k
          == len(dets))
  for v in set(dets.video.tolist()):
    mine = kept.detections.score[kept.detections.video == v]
    assert len(mine) <= 2 and np.all(mine >= 0.2)
    best = np.sort(dets.score[(dets.video == v) & (dets.score >= 0.2)])[::-1]
    np.testing.assert_array_equal(np.sort(mine)[::-1], best[:2])
