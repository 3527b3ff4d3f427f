"""Plots: valid PNGs from synthetic outputs, and the visualize CLI on a
trained smoke run."""

import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import image as mpimg

from wtal_jax import analysis, config_lib
from wtal_jax.evaluation.detections import Detections
from wtal_jax.evaluation.runner import VideoOutput
from wtal_jax.training.train import train_and_evaluate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_size=(100, 200)):
  with open(path, "rb") as f:
    assert f.read(8) == PNG_MAGIC
  pixels = mpimg.imread(path)
  assert pixels.shape[0] >= min_size[0] and pixels.shape[1] >= min_size[1]
  # Not a blank canvas.
  assert pixels[..., :3].std() > 0.01


def fake_output(t=60, c=5, gates=True, seed=0):
  rng = np.random.default_rng(seed)
  probs = {}
  if gates:
    for name, p in (("skip1_gate_0", 2), ("skip1_gate_1", 2),
                    ("skip2_gate_0", 3), ("skip2_gate_1", 3),
                    ("stage_gate_0", 2), ("stage_gate_1", 2)):
      probs[name] = rng.dirichlet(np.ones(p), size=t)
  labels = np.zeros(c)
  labels[[1, 3]] = 1
  return VideoOutput(
      video_id="video_test_0000001", seconds_per_snippet=0.64,
      cas_TxC=rng.random((t, c)), attention_T=rng.random(t),
      video_scores_C=rng.random(c), snippet_scores_TxC1=rng.random((t, c + 1)),
      gate_probs=probs, labels_C=labels,
      segments_Nx2=np.array([[2.0, 6.5], [20.0, 24.0]]),
      segment_labels_N=np.array([1, 3]), ambiguous_Ax2=np.zeros((0, 2)))


def test_video_plot_is_a_valid_png(tmp_path):
  out = fake_output()
  dets = Detections(video=["video_test_0000001"] * 3 + ["other"],
                    label=[1, 3, 2, 1], t_start=[2.5, 19.0, 30.0, 0.0],
                    t_end=[6.0, 25.0, 33.0, 1.0], score=[0.9, 0.5, 0.2, 0.9])
  fig = analysis.plot_video(out, dets, [f"cls{i}" for i in range(5)],
                            ("rgb", "flow"))
  # gt, prediction, 3 CAS strips (2 GT classes + 1 predicted), foreground,
  # six gate strips.
  assert len(fig.axes) == 2 + 3 + 1 + 6
  assert_png(analysis.save(fig, str(tmp_path / "sub" / "video.png")))


def test_prediction_opacity_follows_scores_of_any_sign(tmp_path):
  out = fake_output()
  dets = Detections(video=["video_test_0000001"] * 3, label=[1, 3, 1],
                    t_start=[2.5, 19.0, 30.0], t_end=[6.0, 25.0, 33.0],
                    score=[-4.0, -1.0, -2.5])
  fig = analysis.plot_video(out, dets, [f"cls{i}" for i in range(5)], ())
  spans = sorted((p.get_x() if hasattr(p, "get_x") else 0.0, p.get_alpha())
                 for p in fig.axes[1].patches)
  # Lowest score faintest, highest most opaque, all within (0, 1].
  assert [round(a, 3) for _, a in spans] == [0.15, 0.9, 0.525]
  # A log-scale CAS (all negative) is drawn over its own range.
  out.cas_TxC = np.log(out.cas_TxC + 1e-3)
  fig = analysis.plot_video(out, dets, [f"cls{i}" for i in range(5)], ())
  cas_axes = [ax for ax in fig.axes if ax.get_ylabel().startswith("CAS")]
  lo, hi = cas_axes[0].images[0].get_clim()
  assert lo < hi <= 0.0
  assert_png(analysis.save(fig, str(tmp_path / "log_cas.png")))


def test_gate_strips_show_the_argmax_path_of_each_snippet():
  out = fake_output(t=40, seed=1)
  fig = analysis.plot_video(out, None, (), ("rgb", "flow"))
  strips = {ax.get_ylabel(): np.asarray(ax.images[0].get_array())
            for ax in fig.axes if ax.images and "(" in ax.get_ylabel()
            and not ax.get_ylabel().startswith("CAS")}
  assert len(strips) == 6
  for name, probs in out.gate_probs.items():
    gate, m = analysis.selection.parse_gate_name(name)
    rgb = strips[f"{analysis.GATE_TITLES[gate]} ({('rgb', 'flow')[m]})"][0]
    # One colour per path; snippets with the same argmax share a colour.
    winners = probs.argmax(-1)
    for p in range(probs.shape[-1]):
      colours = {tuple(c) for c in rgb[winners == p]}
      assert len(colours) <= 1
    distinct = {tuple(c) for c in rgb}
    assert len(distinct) == len(set(winners))


def test_video_plot_without_gates_or_detections(tmp_path):
  fig = analysis.plot_video(fake_output(gates=False))
  assert len(fig.axes) == 2 + 2 + 1
  assert_png(analysis.save(fig, str(tmp_path / "plain.png")))


def test_selection_rate_bar_chart(tmp_path):
  out = fake_output(t=200, seed=2)
  table = analysis.table_from_stats(
      analysis.stats_from_probs([out.gate_probs]), ("audio", "visual"))
  fig = analysis.plot_selection_rates(table, "rates")
  assert len(fig.axes) == 3
  # One bar per path and modality.
  assert sum(len(ax.patches) for ax in fig.axes) == 2 * (2 + 3 + 2)
  assert_png(analysis.save(fig, str(tmp_path / "rates.png")), (100, 300))
  with pytest.raises(ValueError, match="no gates"):
    analysis.plot_selection_rates(analysis.SelectionRates(()))


@pytest.fixture(scope="module")
def trained_workdir(data_dir, tmp_path_factory):
  config = config_lib.load_config(
      os.path.join(ROOT, "configs/thumos_lgca_caav.py:smoke"))
  config.data.data_dir = data_dir
  workdir = str(tmp_path_factory.mktemp("vis_run"))
  train_and_evaluate(config, workdir)
  return workdir


def test_cli_writes_plots_of_a_trained_run(trained_workdir):
  run = analysis.load_run(trained_workdir, "latest")
  video = run.experiment.dataset.split("test").index.video_ids[1]
  out_dir = os.path.join(trained_workdir, "figs")
  env = dict(os.environ, JAX_DISABLE_MOST_OPTIMIZATIONS="1",
             JAX_PLATFORMS="cpu")
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.visualize",
       f"--workdir={trained_workdir}", f"--video={video}",
       f"--out_dir={out_dir}"], cwd=ROOT, env=env, capture_output=True,
      text=True, timeout=240, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert_png(os.path.join(out_dir, f"{video}_cas.png"))
  assert_png(os.path.join(out_dir, "selection_rates.png"), (100, 300))
  with open(os.path.join(out_dir, "selection_rates.md"),
            encoding="utf-8") as f:
    table = f.read()
  assert "| Skip-conn. stage-1 | X |" in table and "ζ (rgb)" in table


def test_unknown_video_names_the_split(trained_workdir):
  run = analysis.load_run(trained_workdir)
  with pytest.raises(KeyError, match="not in split 'test'"):
    analysis.video_outputs(run, ["no_such_video"])


def test_cli_refuses_an_unknown_video_in_one_line(trained_workdir):
  env = dict(os.environ, JAX_DISABLE_MOST_OPTIMIZATIONS="1",
             JAX_PLATFORMS="cpu")
  proc = subprocess.run(
      [sys.executable, "-m", "wtal_jax.visualize",
       f"--workdir={trained_workdir}", "--video=no_such_video",
       "--noselection_rates"], cwd=ROOT, env=env, capture_output=True,
      text=True, timeout=240, check=False)
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  assert len(lines) == 1 and lines[0].startswith("error: Videos ["), lines
  assert "not in split 'test'" in lines[0]
