"""bench/heads.py: recipe choice, the table, and resuming a stopped bench."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def _load_bench():
  spec = importlib.util.spec_from_file_location(
      "bench_heads", REPO / "bench" / "heads.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


heads = _load_bench()


def test_recipes_compare_rgb_flow_configs_only():
  found = heads.recipes()
  assert found[("caav", "lgca")][0] == "configs/thumos_lgca_caav.py"
  assert found[("um", "lgca")][0] == "configs/thumos_lgca.py"
  assert found[("um", "concat")][0] == "configs/thumos_um.py"
  for _, config in found.values():
    assert tuple(config.data.modalities) == ("rgb", "flow")


def test_heads_without_an_lgca_config_get_one_stage_leaky_lgca():
  found = heads.recipes()
  assert ("hamnet", "lgca") not in found
  source, config = heads.config_for("hamnet", "lgca", found)
  assert source == "configs/thumos_hamnet.py with fusion lgca"
  assert config.model.head.kind == "hamnet"
  fusion = config.model.fusion
  assert (fusion.kind, fusion.num_stages, fusion.gate, fusion.embed_dim) == (
      "lgca", 1, "leaky", 1024)
  _, concat = heads.config_for("caav", "concat", found)
  assert concat.model.fusion.embed_dim == 0
  assert concat.model.head.kind == "caav"


def test_markdown_marks_missing_runs():
  rows = {"um": {"concat": {"avg_map": 0.25, "recipe": "a"}}}
  table = heads.markdown(rows, ["concat", "lgca"])
  assert "| um | 25.00 | - | concat: a |" in table


def _run_bench(tmp_path, data_dir):
  return subprocess.run(
      [sys.executable, str(REPO / "bench" / "heads.py"), "--heads=asl",
       "--steps=2", "--num_snippets=16", "--batch_size=4",
       "--builder_config=tiny", f"--data_dir={data_dir}",
       f"--workdir={tmp_path / 'runs'}", f"--output_dir={tmp_path / 'out'}"],
      capture_output=True, text=True, cwd=REPO, timeout=600,
      env={**os.environ, "PYTHONPATH": str(REPO)})


def test_bench_writes_table_and_reuses_finished_runs(tmp_path, data_dir):
  first = _run_bench(tmp_path, data_dir)
  assert first.returncode == 0, first.stderr[-3000:]
  assert "=== asl + concat (configs/thumos_asl.py)" in first.stdout
  [json_path] = (tmp_path / "out").glob("heads-*.json")
  record = json.loads(json_path.read_text())
  assert record["budget"]["steps"] == 2
  for fusion in ("concat", "lgca"):
    run = record["results"]["asl"][fusion]
    with open(tmp_path / "runs" / f"asl_{fusion}" / "final_metrics.json") as f:
      assert run["avg_map"] == json.load(f)["avg_map"]

  second = _run_bench(tmp_path, data_dir)
  assert second.returncode == 0, second.stderr[-3000:]
  assert "asl + concat: finished before" in second.stdout
  assert "asl + lgca: finished before" in second.stdout
  assert "| asl |" in second.stdout


def test_finished_metrics_ignores_runs_of_another_config(tmp_path):
  _, config = heads.config_for("asl", "concat", heads.recipes())
  workdir = tmp_path / "run"
  workdir.mkdir()
  (workdir / "config.json").write_text(config.to_json_best_effort())
  (workdir / "final_metrics.json").write_text(json.dumps({"avg_map": 0.5}))
  assert heads.finished_metrics(config, str(workdir)) == {"avg_map": 0.5}
  config.train.num_steps += 1
  assert heads.finished_metrics(config, str(workdir)) is None
