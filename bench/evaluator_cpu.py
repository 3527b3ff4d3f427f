r"""CPU time of ``python -m wtal_jax.evaluate`` against the official
ActivityNet ``eval_detection.py`` on the same two files, and their mAPs.

Both run as the user would run them, each in a fresh interpreter, so their
imports count; CPU time is the child's user + system time. The official
evaluator is not part of this project: pass the folder that holds its
``eval_detection.py`` (and its ``utils.py``), e.g. a checkout of
``activitynet/ActivityNet``'s ``Evaluation`` folder, and a Python that has
its dependencies (pandas):

  python bench/evaluator_cpu.py --ground_truth=RUN/ground_truth.json \
      --predictions=RUN/predictions.json --official_dir=.../Evaluation \
      [--official_python=.../bin/python] [--repeats=10]

Prints a table (CPU seconds, the ratio, both average mAPs and whether they
agree to 10 digits) and writes JSON to ``bench/results/``. Without
``--official_dir`` only this project's evaluator is timed.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys

from absl import app
from absl import flags

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

# pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report

_GT = flags.DEFINE_string("ground_truth", None, "Ground-truth JSON.")
_PRED = flags.DEFINE_string("predictions", None, "Predictions JSON.")
_OFFICIAL = flags.DEFINE_string(
    "official_dir", "", "Folder holding the official eval_detection.py.")
_OFFICIAL_PY = flags.DEFINE_string(
    "official_python", sys.executable, "Python that runs the official code.")
_REPEATS = flags.DEFINE_integer("repeats", 10, "Runs of this evaluator.")
_OFFICIAL_REPEATS = flags.DEFINE_integer("official_repeats", 1,
                                         "Runs of the official evaluator.")
_OUT = flags.DEFINE_string("output_dir", os.path.join(ROOT, "bench",
                                                      "results"),
                           "Where the table and JSON go.")

# THUMOS14's thresholds, scored on the 'test' subset; the official class
# reads the files itself.
_OFFICIAL_DRIVER = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from eval_detection import ANETdetection
d = ANETdetection(sys.argv[2], sys.argv[3],
                  tiou_thresholds=np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                            0.7]), subset="test",
                  verbose=False, check_status=False)
d.evaluate()
print(repr(float(d.average_mAP)))
"""


def cpu_seconds(cmd: list[str]) -> tuple[float, str]:
  """Runs ``cmd``; its user + system CPU seconds and stdout."""
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if proc.returncode:
    raise SystemExit(f"{' '.join(cmd[:3])} ... failed:\n{proc.stderr[-2000:]}")
  return (after.ru_utime - before.ru_utime
          + after.ru_stime - before.ru_stime), proc.stdout


def main(argv):
  del argv
  ours_cmd = [sys.executable, "-m", "wtal_jax.evaluate",
              f"--ground_truth={_GT.value}", f"--predictions={_PRED.value}"]
  load_start = os.getloadavg()[0]
  ours = [cpu_seconds(ours_cmd)[0] for _ in range(_REPEATS.value)]
  # The unrounded value, for the 10-digit comparison.
  exact = subprocess.run(
      [sys.executable, "-c",
       "import sys; from wtal_jax import evaluate; "
       "r = evaluate.run(sys.argv[1], sys.argv[2], out=open('/dev/null', 'w'));"
       " print(repr(r.average))", _GT.value, _PRED.value],
      capture_output=True, text=True, check=True).stdout.strip()
  ours_map = float(exact)
  row = {"ours_cpu_s": {"min": min(ours), "median": statistics.median(ours),
                        "runs": ours},
         "ours_average_map": ours_map}
  lines = ["| evaluator | CPU s (min) | CPU s (median) | avg mAP |",
           "| --- | ---: | ---: | ---: |",
           f"| python -m wtal_jax.evaluate | {min(ours):.3f} | "
           f"{statistics.median(ours):.3f} | {ours_map!r} |"]
  if _OFFICIAL.value:
    official = []
    for _ in range(_OFFICIAL_REPEATS.value):
      seconds, out = cpu_seconds([_OFFICIAL_PY.value, "-c", _OFFICIAL_DRIVER,
                                  _OFFICIAL.value, _GT.value, _PRED.value])
      official.append(seconds)
    official_map = float(out.strip().splitlines()[-1])
    same = f"{official_map:.10f}" == f"{ours_map:.10f}"
    row.update(official_cpu_s={"min": min(official), "runs": official},
               official_average_map=official_map,
               ratio_min=min(official) / min(ours),
               ratio_median=min(official) / statistics.median(ours),
               same_to_10_digits=same)
    lines.append(f"| official eval_detection.py | {min(official):.2f} | - | "
                 f"{official_map!r} |")
    lines += ["", f"Official / ours: {row['ratio_min']:.0f}x (min), "
              f"{row['ratio_median']:.0f}x (ours' median); average mAPs "
              f"{'agree' if same else 'DIFFER'} to 10 digits."]
  load_end = os.getloadavg()[0]
  lines += ["", f"Load average {load_start:.2f} at the start, {load_end:.2f} "
            "at the end."]
  table = "\n".join(lines)
  print(table)
  report.write(_OUT.value, "evaluator_cpu", table, {
      "machine": report.machine(load_start, load_end),
      "ground_truth": os.path.abspath(_GT.value),
      "predictions": os.path.abspath(_PRED.value), **row})
  return 0


if __name__ == "__main__":
  flags.mark_flags_as_required(["ground_truth", "predictions"])
  app.run(main)
