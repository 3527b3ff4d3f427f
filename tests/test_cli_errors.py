"""The user's mistakes in the command lines (python -m wtal_jax.main,
python -m wtal_jax.evaluate, python -m data_prep.build, python -m
wtal_jax.visualize) end in one
'error: ...' line on stderr and exit status 2, never a traceback; and the
shared mechanism (wtal_jax.cli_errors) behaves as documented."""

import concurrent.futures
import json
import os
import subprocess
import sys

import pytest

from wtal_jax import cli_errors

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SMOKE = "--config=configs/thumos_lgca_caav.py:smoke"


def _cases(tmp):
  """name -> (argv after python -m, a phrase the error line must contain).

  Every case fails before anything is compiled."""
  gt = os.path.join(tmp, "gt.json")
  with open(gt, "w", encoding="utf-8") as f:
    json.dump({"database": {
        "a": {"subset": "test", "annotations": [
            {"segment": [1, 2], "label": "Run"}]},
        "b": {"subset": "val", "annotations": []}}}, f)
  preds = os.path.join(tmp, "pred.json")
  with open(preds, "w", encoding="utf-8") as f:
    json.dump({"results": {
        "typo": [{"label": "Run", "score": 1, "segment": [1, 2]}],
        "b": [{"label": "Run", "score": 1, "segment": [1, 2]}]}}, f)
  workdir = os.path.join(tmp, "run")
  empty = os.path.join(tmp, "no_data")
  os.makedirs(empty)
  main = ["wtal_jax.main"]
  evaluate = ["wtal_jax.evaluate", f"--ground_truth={gt}",
              f"--predictions={preds}"]
  build = ["data_prep.build"]
  return {
      "main_bad_value": (main + [SMOKE, f"--workdir={workdir}",
                                 "--config.train.lr=-1"],
                         "config.train.lr: must be positive"),
      "main_unknown_field": (main + [SMOKE, f"--workdir={workdir}",
                                     "--config.train.lrr=0.1"],
                             "no field 'lrr'"),
      "main_missing_config_file": (main + ["--config=configs/nope.py",
                                           f"--workdir={workdir}"],
                                   "configs/nope.py"),
      "main_workdir_parent_missing": (
          main + [SMOKE, f"--workdir={tmp}/typo/run"],
          f"parent folder {tmp}/typo does not exist"),
      "main_dataset_not_prepared": (
          main + ["--config=configs/thumos_lgca.py", f"--workdir={workdir}",
                  f"--config.data.data_dir={empty}"],
          "Dataset 'thumos14' is not prepared"),
      "evaluate_unknown_video": (evaluate, "--unknown_videos=fp"),
      "evaluate_outside_subset_error": (
          evaluate + ["--unknown_videos=drop", "--outside_subset=error"],
          "outside the subset"),
      "evaluate_missing_file": (["wtal_jax.evaluate", "--ground_truth=nope",
                                 f"--predictions={preds}"],
                                "nope: file not found"),
      "evaluate_bad_tiou": (evaluate + ["--tiou=0.5,x"], "--tiou='0.5,x'"),
      "evaluate_bad_enum": (evaluate + ["--unknown_videos=keep"],
                            "--unknown_videos"),
      "build_no_dataset": (build, "Name exactly one dataset"),
      "build_bad_config": (build + ["synthetic_thumos", "--config=huge",
                                    f"--data_dir={empty}"],
                           "Unknown config 'huge'"),
      "build_missing_input": (
          build + ["thumos14", f"--annotations={tmp}/nowhere",
                   f"--features={tmp}/nowhere.npy", f"--data_dir={empty}"],
          f"{tmp}/nowhere"),
      "build_bad_data_dir": (build + ["synthetic_thumos", "--config=tiny",
                                      f"--data_dir={gt}/sub"],
                             "--data_dir"),
      "visualize_not_a_run": (["wtal_jax.visualize", f"--workdir={empty}"],
                              "is not a training workdir"),
  }


@pytest.fixture(scope="module")
def results(tmp_path_factory):
  """Runs every case, a few at a time (each one is a Python start-up)."""
  tmp = str(tmp_path_factory.mktemp("cli_errors"))
  cases = _cases(tmp)
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}

  def run(argv):
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)

  with concurrent.futures.ThreadPoolExecutor(4) as pool:
    procs = dict(zip(cases, pool.map(run, (a for a, _ in cases.values()))))
  return {name: (procs[name], cases[name][1]) for name in cases}


# Listed here so that each case is its own test (test_every_case_is_run keeps
# the list in step with _cases).
CASE_NAMES = [
    "main_bad_value", "main_unknown_field", "main_missing_config_file",
    "main_workdir_parent_missing", "main_dataset_not_prepared",
    "evaluate_unknown_video", "evaluate_outside_subset_error",
    "evaluate_missing_file", "evaluate_bad_tiou", "evaluate_bad_enum",
    "build_no_dataset", "build_bad_config", "build_missing_input",
    "build_bad_data_dir", "visualize_not_a_run"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_user_error_is_one_line_and_exit_2(results, name):
  proc, phrase = results[name]
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
  assert "Traceback" not in proc.stderr + proc.stdout
  assert len(lines) == 1, proc.stderr
  assert lines[0].startswith("error: ") and phrase in lines[0], lines[0]
  # No JAX backend probing on the console (INFO logs are off by default).
  assert "libtpu" not in proc.stderr + proc.stdout


def test_every_case_is_run(tmp_path):
  assert sorted(_cases(str(tmp_path))) == sorted(CASE_NAMES)


def test_one_line_keeps_the_exception_of_an_embedded_traceback():
  text = ("flag --config=c.py:x: Error whilst parsing config file:\n\n"
          "  Traceback (most recent call last):\n    File \"c.py\", line 3\n"
          "  ValueError: Unknown config variant 'x'\n")
  assert cli_errors.one_line(text) == (
      "flag --config=c.py:x: Error whilst parsing config file: ValueError: "
      "Unknown config variant 'x'")
  assert cli_errors.one_line("a\n  b\n\nc") == "a b c"


def test_fail_prints_one_line_and_exits_2(capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli_errors.fail("first\nsecond")
  assert exit_info.value.code == cli_errors.EXIT_USAGE == 2
  assert capsys.readouterr().err == "error: first second\n"


def test_command_line_modules_import_together():
  """A notebook or tool may import several command-line modules: their absl
  flags must not clash (``--workdir`` is defined by ``main`` only; the
  others define theirs when run as programs), and each still has its flags
  when run."""
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  modules = ["wtal_jax.main", "wtal_jax.evaluate", "wtal_jax.predict",
             "wtal_jax.visualize", "data_prep.build",
             "data_prep.derive_thumos_timings"]
  proc = subprocess.run(
      [sys.executable, "-c", "import " + ", ".join(modules)], cwd=ROOT,
      env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  for module, flag in (("wtal_jax.predict", "--inputs"),
                       ("wtal_jax.visualize", "selection_rates")):
    proc = subprocess.run([sys.executable, "-m", module, "--helpshort"],
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    # absl's --helpshort exits with status 1 after printing.
    assert flag in proc.stdout, (module, proc.stdout[-2000:], proc.stderr)
