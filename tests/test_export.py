"""data_prep.export: a prepared dataset written in the two THUMOS14 release
layouts reads back, through the layouts' own readers, as the same data."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from data_prep import export, thumos14
from wtal_jax.data import source

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _tiny(data_dir):
  return source.builder_dir(data_dir, "synthetic_thumos", "tiny")


@pytest.mark.parametrize("layout", export.LAYOUTS)
def test_export_round_trips_through_the_release_reader(data_dir, tmp_path,
                                                       layout):
  original = source.FeatureDataset(_tiny(data_dir))
  out = str(tmp_path / layout)
  n = export.export(_tiny(data_dir), layout, out)
  assert n == sum(len(original.split(s)) for s in export.SPLITS)
  dim = original.meta.modality_dims["rgb"]
  if layout == "wtalc":
    ann = os.path.join(out, "Thumos14reduced-Annotations")
    options = thumos14.Thumos14Options(
        layout=layout, annotations=ann, stream_dim=dim,
        features=os.path.join(out, "Thumos14reduced-I3D-JOINTFeatures.npy"))
  else:
    options = thumos14.Thumos14Options(
        layout=layout, annotations=out, stream_dim=dim,
        features=os.path.join(out, "features"))
  back = source.FeatureDataset(
      thumos14.build(str(tmp_path / "tfds"), options).builder_dir)
  assert back.meta.class_names == original.meta.class_names
  for split in export.SPLITS:
    a, b = original.split(split), back.split(split)
    by_id = {b[i]["video_id"]: i for i in range(len(b))}
    assert sorted(by_id) == sorted(a.index.video_ids)
    for i in range(len(a)):
      x, y = a[i], b[by_id[a[i]["video_id"]]]
      for key in ("rgb", "flow", "labels"):
        np.testing.assert_array_equal(x[key], y[key], err_msg=key)
      # Segments in the order stored; the readers may reorder instances.
      want = sorted(zip(x["segment_labels"].tolist(),
                        map(tuple, x["segments"].tolist())))
      got = sorted(zip(y["segment_labels"].tolist(),
                       map(tuple, y["segments"].tolist())))
      assert [c for c, _ in got] == [c for c, _ in want]
      np.testing.assert_allclose([s for _, s in got], [s for _, s in want],
                                 atol=1e-9)
      if layout == "wtalc" and split == "test":
        np.testing.assert_allclose(np.sort(y["ambiguous"], 0),
                                   np.sort(x["ambiguous"], 0), atol=1e-9)


def test_export_refuses_a_used_folder_and_a_bad_layout(data_dir, tmp_path):
  out = tmp_path / "used"
  out.mkdir()
  (out / "keep.txt").write_text("mine")
  with pytest.raises(export.ExportError, match="not empty"):
    export.export(_tiny(data_dir), "wtalc", str(out))
  assert (out / "keep.txt").read_text() == "mine"
  with pytest.raises(export.ExportError, match="per_video"):
    export.export(_tiny(data_dir), "anet", str(tmp_path / "x"))


def test_export_cli_one_line_error_and_success(data_dir, tmp_path):
  env = dict(os.environ, WTAL_JAX_DATA_DIR=data_dir)
  run = lambda *a: subprocess.run(
      [sys.executable, "-m", "data_prep.export", *a], cwd=ROOT, env=env,
      capture_output=True, text=True, timeout=300)
  bad = run("--layout=wtalc", f"--out={tmp_path / 'a'}", "--config=nope")
  assert bad.returncode == 2
  assert bad.stderr.strip().startswith("error:") and "nope" in bad.stderr
  good = run("--layout=per_video", f"--out={tmp_path / 'b'}", "--config=tiny")
  assert good.returncode == 0, good.stderr
  assert "--stream_dim=" in good.stdout
  with open(tmp_path / "b" / "gt.json") as f:
    database = json.load(f)["database"]
  assert {v["subset"] for v in database.values()} == {"train", "test"}
