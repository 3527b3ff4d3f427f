"""bench/heads.py: recipe choice, the table, parallel runs, resuming a
stopped bench, and merging benches run in pieces."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest
from absl import flags

REPO = pathlib.Path(__file__).resolve().parents[1]


def _load_bench():
  before = set(flags.FLAGS)
  spec = importlib.util.spec_from_file_location(
      "bench_heads", REPO / "bench" / "heads.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  # The bench parses its flags only in its own process (the subprocess runs
  # below). Left in absl's global registry they would clash with the flags
  # of command-line modules that other tests import (e.g. --workdir).
  for name in set(flags.FLAGS) - before:
    delattr(flags.FLAGS, name)
  return module


heads = _load_bench()
from bench import head_runs, heads_table  # noqa: E402  (on the bench's path)


def test_recipes_key_rows_by_head_and_streams():
  found = head_runs.thumos_configs()
  assert found[("caav", "lgca")][0] == "configs/thumos_lgca_caav.py"
  assert found[("um", "lgca")][0] == "configs/thumos_lgca.py"
  assert found[("um", "concat")][0] == "configs/thumos_um.py"
  assert found[("caav (audio-visual)", "lgca")][0] == (
      "configs/thumos_caav_av.py")
  for (row, _), (_, config) in found.items():
    expected = (head_runs.AUDIO_VISUAL if row.endswith(head_runs.AV_SUFFIX)
                else head_runs.RGB_FLOW)
    assert tuple(config.data.modalities) == expected


def test_own_fusion_is_the_heads_published_one():
  found = head_runs.thumos_configs()
  kinds = {row: head_runs.config_for(row, "own", found)[1].model.fusion.kind
           for row in ("um", "asl", "hamnet", "threec", "caav", "co2net")}
  assert kinds == {"um": "concat", "asl": "concat", "hamnet": "concat",
                   "threec": "concat", "caav": "cross_attention",
                   "co2net": "ccm"}
  # Audio-visual CAAV: its own LGCA recipe with CAAV's two-stage
  # cross-attention in place of LGCA, so only the fusion differs.
  source, own = head_runs.config_for("caav (audio-visual)", "own", found)
  _, lgca = head_runs.config_for("caav (audio-visual)", "lgca", found)
  assert "configs/thumos_caav_av.py with the fusion of" in source
  assert (own.model.fusion.kind, own.model.fusion.num_stages) == (
      "cross_attention", 2)
  assert tuple(own.data.modalities) == head_runs.AUDIO_VISUAL
  own.model.fusion = lgca.model.fusion
  assert own.to_dict() == lgca.to_dict()


def test_heads_without_an_lgca_config_get_lgca_placed_by_the_head():
  found = head_runs.thumos_configs()
  assert ("hamnet", "lgca") not in found
  source, config = head_runs.config_for("hamnet", "lgca", found)
  assert source == "configs/thumos_hamnet.py with fusion lgca"
  assert config.model.head.kind == "hamnet"
  fusion = config.model.fusion
  # HAM-Net reads the raw streams: LGCA cross-attends them, no embedding.
  assert (fusion.kind, fusion.num_stages, fusion.gate, fusion.embed_dim,
          fusion.gate_prior) == ("lgca", 1, "leaky", 0, 0.95)
  # A named variant changes only its fields.
  source, xavier = head_runs.config_for("um", "lgca_xavier", found)
  assert "gate_prior=0.0" in source
  _, lgca = head_runs.config_for("um", "lgca", found)
  xavier.model.fusion.gate_prior = lgca.model.fusion.gate_prior
  assert xavier.to_dict() == lgca.to_dict()
  _, concat = head_runs.config_for("caav", "concat", found)
  assert concat.model.fusion.embed_dim == 0
  assert concat.model.head.kind == "caav"


def test_lgca_attached_keeps_3cnets_whole_head():
  """In place of 3C-Net's second FC, LGCA leaves the head no FC; attached,
  it cross-attends the raw streams and the head keeps its two, as in its
  own config."""
  found = head_runs.thumos_configs()
  _, own = head_runs.config_for("threec", "own", found)
  _, lgca = head_runs.config_for("threec", "lgca", found)
  source, attached = head_runs.config_for("threec", "lgca_attached", found)
  assert "head.num_fc=2" in source and "embed_dim=0" in source
  assert lgca.model.head.num_fc == 0 and lgca.model.fusion.embed_dim > 0
  assert (attached.model.head.num_fc, attached.model.fusion.embed_dim) == (
      own.model.head.num_fc, 0)
  assert attached.model.head.to_dict() == own.model.head.to_dict()
  attached.model.fusion.embed_dim = lgca.model.fusion.embed_dim
  attached.model.head.num_fc = lgca.model.head.num_fc
  assert attached.to_dict() == lgca.to_dict()


def test_lgca_goes_on_top_of_co2nets_consensus_module():
  found = head_runs.thumos_configs()
  _, own = head_runs.config_for("co2net", "own", found)
  _, lgca = head_runs.config_for("co2net", "lgca", found)
  assert own.model.fusion.kind == "ccm"
  assert (lgca.model.fusion.kind, lgca.model.fusion.recalibration) == (
      "lgca", "ccm")
  # CCM in front of LGCA is CO2-Net's own, with its settings.
  for field in ("ccm_kernel_size", "ccm_negative_slope", "ccm_dropout",
                "ccm_weight_init"):
    assert lgca.model.fusion[field] == own.model.fusion[field], field
  # Other heads have no cross-modal module of their own to keep.
  assert head_runs.config_for("um", "lgca", found)[
      1].model.fusion.recalibration == "none"
  _, without = head_runs.config_for("co2net", "lgca_without_ccm", found)
  without.model.fusion.recalibration = "ccm"
  assert without.to_dict() == lgca.to_dict()


def _record(avg, kind="concat", cls=0.9, n=12, classes=3, rates=None):
  return {"avg_map": avg, "recipe": "a", "fusion_kind": kind, "steps": 7,
          "selection_rates": rates or {},
          "metrics": {"avg_map": avg, "cls_map": cls, "num_predictions": n,
                      "num_predicted_classes": classes}}


def test_markdown_shows_mean_spread_gap_and_missing_runs():
  rates = {"gate_rate/skip1_gate_0/X": 1.0, "gate_rate/skip1_gate_1/X": 0.25,
           "gate_rate/skip1_gate_0/Xtilde1": 0.0,
           "gate_rate/skip1_gate_1/Xtilde1": 0.75}
  rows = {"um": {"own": {"0": _record(0.25), "1": _record(0.35)},
                 "lgca": {"0": _record(0.31, "lgca", rates=rates)}},
          "asl": {"own": {"0": _record(0.5), "1": _record(0.5)},
                  "lgca": {"0": _record(0.4, "lgca"),
                           "1": _record(0.5, "lgca")}}}
  table = heads_table.markdown(rows, ["own", "lgca"], ["0", "1"])
  assert ("| um | 30.00 (concat) ± 7.07 (25.0–35.0) | 31.00 (1 of 2 seeds) "
          "| - |") in table
  assert ("| asl | 50.00 (concat) ± 0.00 (50.0–50.0) | 45.00 ± 7.07 "
          "(40.0–50.0) | -5.00 |") in table
  assert ("| um | lgca (lgca) | 0 | 7 | 31.00 | 90.00 | 12 | 3 | "
          "skip1: X 100/25, Xtilde1 0/75 | a |") in table


def _run_bench(tmp_path, data_dir):
  return subprocess.run(
      [sys.executable, str(REPO / "bench" / "heads.py"), "--heads=asl",
       "--noaudio_visual", "--steps=2", "--num_snippets=16", "--batch_size=4",
       "--builder_config=tiny", f"--data_dir={data_dir}", "--seeds=0",
       "--jobs=2",
       f"--workdir={tmp_path / 'runs'}", f"--output_dir={tmp_path / 'out'}"],
      capture_output=True, text=True, cwd=REPO, timeout=600,
      env={**os.environ, "PYTHONPATH": str(REPO)})


def test_bench_writes_table_and_reuses_finished_runs(tmp_path, data_dir):
  first = _run_bench(tmp_path, data_dir)
  assert first.returncode == 0, first.stderr[-3000:]
  assert "=== asl + own (seed 0): configs/thumos_asl.py" in first.stdout
  [json_path] = (tmp_path / "out").glob("heads-*.json")
  record = json.loads(json_path.read_text())
  assert record["budget"]["steps"] == 2
  for fusion in ("own", "lgca"):
    run = record["results"]["asl"][fusion]["0"]
    with open(tmp_path / "runs" / f"asl_{fusion}_seed0" /
              "final_metrics.json") as f:
      final = json.load(f)
    assert run["avg_map"] == final["avg_map"]
    assert run["metrics"]["num_predictions"] == final["num_predictions"]
    assert run["steps"] == 2
  # LGCA's run records its gates' selection rates; the concatenation none.
  rates = record["results"]["asl"]["lgca"]["0"]["selection_rates"]
  assert set(rates) == {f"gate_rate/skip1_gate_{m}/{p}" for m in (0, 1)
                        for p in ("X", "Xtilde1")}
  assert all(0.0 <= v <= 1.0 for v in rates.values())
  assert record["results"]["asl"]["own"]["0"]["selection_rates"] == {}

  second = _run_bench(tmp_path, data_dir)
  assert second.returncode == 0, second.stderr[-3000:]
  assert "asl + own (seed 0): finished before" in second.stdout
  assert "asl + lgca (seed 0): finished before" in second.stdout
  assert "| asl |" in second.stdout


def test_finished_metrics_ignores_runs_of_another_config(tmp_path):
  _, config = head_runs.config_for("asl", "concat", head_runs.thumos_configs())
  workdir = tmp_path / "run"
  workdir.mkdir()
  (workdir / "config.json").write_text(config.to_json_best_effort())
  (workdir / "final_metrics.json").write_text(json.dumps({"avg_map": 0.5}))
  assert head_runs.finished_metrics(config, str(workdir)) == {"avg_map": 0.5}
  config.train.num_steps += 1
  assert head_runs.finished_metrics(config, str(workdir)) is None


def _piece(tmp_path, name, results, steps=":synthetic", seeds=("0",)):
  path = tmp_path / name
  path.write_text(json.dumps({"budget": {
      "steps": steps, "num_snippets": ":synthetic", "batch_size": ":synthetic",
      "builder_config": ":synthetic", "seeds": list(seeds), "jobs": 2},
                              "results": results}))
  return str(path)


def test_merge_joins_seeds_and_columns_of_pieces(tmp_path):
  from bench import heads_merge  # pylint: disable=g-import-not-at-top
  a = _piece(tmp_path, "a.json", {"um": {"own": {"0": _record(0.25)},
                                         "lgca": {"0": _record(0.31, "lgca")}}})
  b = _piece(tmp_path, "b.json", {
      "um": {"own": {"1": _record(0.35)}, "lgca": {"1": _record(0.29, "lgca")},
             "lgca_per_snippet": {"1": _record(0.4, "lgca")}},
      "asl": {"own": {"1": _record(0.5)}}}, seeds=("1",))
  out = subprocess.run(
      [sys.executable, str(REPO / "bench" / "heads_merge.py"), a, b,
       f"--output_dir={tmp_path / 'out'}"],
      capture_output=True, text=True, cwd=REPO, timeout=120)
  assert out.returncode == 0, out.stderr[-2000:]
  table = next((tmp_path / "out").glob("heads-merged-*.md")).read_text()
  # Both seeds of each cell, the own and LGCA columns first.
  assert ("| head | own avg mAP (%) | lgca avg mAP (%) | lgca_per_snippet avg "
          "mAP (%) | lgca − own |") in table
  assert ("| um | 30.00 (concat) ± 7.07 (25.0–35.0) | 30.00 ± 1.41 "
          "(29.0–31.0) | 40.00 (1 of 2 seeds) | +0.00 |") in table
  assert "| asl | 50.00 (concat) (1 of 2 seeds) | - | - | - |" in table
  record = json.loads(next((tmp_path / "out").glob("heads-merged-*.json"))
                      .read_text())
  assert record["budget"]["seeds"] == ["0", "1"]
  assert record["budget"]["merged_from"] == ["a.json", "b.json"]


def test_merge_refuses_other_budgets_and_conflicting_runs(tmp_path):
  from bench import heads_merge  # pylint: disable=g-import-not-at-top
  a = _piece(tmp_path, "a.json", {"um": {"own": {"0": _record(0.25)}}})
  other = _piece(tmp_path, "b.json", {"um": {"own": {"1": _record(0.3)}}},
                 steps=100)
  clash = _piece(tmp_path, "c.json", {"um": {"own": {"0": _record(0.26)}}})
  same = _piece(tmp_path, "d.json", {"um": {"own": {"0": _record(0.25)}}})
  load = lambda *paths: [(p, json.loads(pathlib.Path(p).read_text()))
                         for p in paths]
  with pytest.raises(heads_merge.MergeError, match="b.json was run at budget"):
    heads_merge.merge(load(a, other))
  with pytest.raises(heads_merge.MergeError,
                     match=r"um \+ own \(seed 0\) scored 25.00 in .*a.json "
                           r"and 26.00 in .*c.json"):
    heads_merge.merge(load(a, clash))
  rows, fusions, seeds, _ = heads_merge.merge(load(a, same))
  assert (fusions, seeds) == (["own"], ["0"])
  assert list(rows["um"]["own"]) == ["0"]


def test_merge_drops_a_superseded_row_by_name(tmp_path):
  from bench import heads_merge  # pylint: disable=g-import-not-at-top
  old = _piece(tmp_path, "old.json", {"caav": {"own": {"0": _record(0.12)}},
                                      "um": {"own": {"0": _record(0.45)}}})
  new = _piece(tmp_path, "new.json", {"caav": {"own": {"0": _record(0.37)}}})
  load = lambda *paths: [(p, json.loads(pathlib.Path(p).read_text()))
                         for p in paths]
  with pytest.raises(heads_merge.MergeError, match="remove one of them"):
    heads_merge.merge(load(old, new))
  rows, _, _, budget = heads_merge.merge(load(old, new),
                                         drop=[("old.json", "caav")])
  assert rows["caav"]["own"]["0"]["avg_map"] == 0.37
  assert rows["um"]["own"]["0"]["avg_map"] == 0.45
  assert budget["dropped"] == ["old.json:caav"]
  with pytest.raises(heads_merge.MergeError, match="no row 'asl'"):
    heads_merge.merge(load(old, new), drop=[("old.json", "asl")])


def test_merge_drops_one_column_of_a_row(tmp_path):
  from bench import heads_merge  # pylint: disable=g-import-not-at-top
  old = _piece(tmp_path, "old.json", {"co2net": {
      "own": {"0": _record(0.53)}, "lgca": {"0": _record(0.01)}}})
  new = _piece(tmp_path, "new.json",
               {"co2net": {"lgca": {"0": _record(0.52)}}})
  load = lambda *paths: [(p, json.loads(pathlib.Path(p).read_text()))
                         for p in paths]
  rows, fusions, _, budget = heads_merge.merge(
      load(old, new), drop=[("old.json", "co2net", "lgca")])
  assert rows["co2net"]["own"]["0"]["avg_map"] == 0.53
  assert rows["co2net"]["lgca"]["0"]["avg_map"] == 0.52
  assert fusions == ["own", "lgca"]
  assert budget["dropped"] == ["old.json:co2net:lgca"]
  with pytest.raises(heads_merge.MergeError, match="has no fusion 'lgca_x'"):
    heads_merge.merge(load(old, new), drop=[("old.json", "co2net", "lgca_x")])


# A bench whose workers outlive it: the parent starts two workers that each
# write their pid and sleep, then is killed with SIGKILL (no cleanup runs).
_ORPHAN_BENCH = """
import os, signal, sys, time
# A shell runs background jobs with SIGINT ignored, and Python keeps an
# inherited "ignore"; Ctrl-C reaches a bench run from a terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {repo!r})
from bench import head_runs
import _orphan_task
if __name__ == "__main__":
  with head_runs.worker_pool(2, poll_seconds=0.1) as pool:
    futures = [pool.submit(_orphan_task.sleep_and_report, {out!r}, i)
               for i in range(2)]
    while len(os.listdir({out!r})) < 2:
      time.sleep(0.05)
    print("ready", flush=True)
    time.sleep(600)
"""

_ORPHAN_TASK = """
import os, time
def sleep_and_report(out, i):
  with open(os.path.join(out, str(i)), "w") as f:
    f.write(str(os.getpid()))
  time.sleep(600)
"""


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  # A zombie has exited; only its parent (gone here) would reap it.
  with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
    return f.read().split(")")[-1].split()[0] != "Z"


def _run_bench_then(tmp_path, stop):
  import signal  # pylint: disable=g-import-not-at-top
  import time  # pylint: disable=g-import-not-at-top
  out = tmp_path / "pids"
  out.mkdir()
  (tmp_path / "_orphan_task.py").write_text(_ORPHAN_TASK)
  script = tmp_path / "orphan_bench.py"
  script.write_text(_ORPHAN_BENCH.format(repo=str(REPO), out=str(out)))
  env = dict(os.environ, PYTHONPATH=str(tmp_path))
  proc = subprocess.Popen([sys.executable, str(script)], env=env,
                          stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline().strip() == "ready"
  pids = [int((out / name).read_text()) for name in sorted(os.listdir(out))]
  assert all(_alive(pid) for pid in pids)
  proc.send_signal({"kill": signal.SIGKILL, "interrupt": signal.SIGINT}[stop])
  # The workers sleep for 600 s, so these bounds catch a bench that waits
  # for them; tearing down takes about 1 s, the rest is margin for a loaded
  # machine.
  proc.wait(timeout=120)
  deadline = time.time() + 60
  while time.time() < deadline and any(_alive(pid) for pid in pids):
    time.sleep(0.1)
  return pids


def test_workers_exit_when_the_bench_is_killed(tmp_path):
  pids = _run_bench_then(tmp_path, "kill")
  assert not any(_alive(pid) for pid in pids), pids


def test_interrupted_bench_terminates_its_running_workers(tmp_path):
  pids = _run_bench_then(tmp_path, "interrupt")
  assert not any(_alive(pid) for pid in pids), pids


def test_rows_follow_the_stream_flags():
  found = head_runs.thumos_configs()
  assert heads.table_rows(["um", "caav"], found) == [
      "um", "caav", "caav (audio-visual)"]
  assert heads.table_rows(["um", "caav"], found, audio_visual=False) == [
      "um", "caav"]
  assert heads.table_rows(["um", "caav"], found, rgb_flow=False) == [
      "caav (audio-visual)"]
  assert heads.table_rows(["um"], found, rgb_flow=False) == []
