r"""Scores temporal action detections with ActivityNet's detection mAP.

Usage:

  python -m wtal_jax.evaluate --ground_truth=gt.json --predictions=pred.json \
      [--subset=test] [--tiou=thumos|thumos_full|anet|0.3,0.5] \
      [--remove_ambiguous=Ambiguous_test.txt] [--per_class] \
      [--output_json=scores.json]

Reads the ActivityNet JSON formats: ground truth as
``{"database": {video: {"subset", "annotations": [{"segment", "label"}]}}}``
(segment bounds may be numeric strings) and predictions as
``{"results": {video: [{"label", "score", "segment"}]}}``. Prints the mAP (%)
at every tIoU threshold, their average, the number of test videos and every
count of dropped or flagged entries. The numbers equal those of the official
``eval_detection.py`` (see ``wtal_jax.evaluation.detection_eval``).

Bad input is never scored as a silent zero: malformed files, unknown videos
or labels, NaN, negative or reversed segments and NaN scores stop with an
error that names the file, video and entry, unless --invalid=drop or
--unknown_videos=drop ask to skip them, in which case they are counted and
reported. --unknown_videos=fp scores predictions on videos absent from the
ground truth as false positives, as the official evaluator does (counted
too). Exit status: 0 on success, 2 on bad input (one 'error: ...' line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

if __name__ == "__main__":
  # Scoring does no BLAS work, and starting OpenBLAS's thread pool costs
  # about as much CPU time as reading and scoring a THUMOS14 test set. Only
  # when run as a program: imported, this module leaves the process alone.
  os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from wtal_jax import cli_errors
from wtal_jax import evaluation as ev
from wtal_jax.evaluation.json_io import UNKNOWN_VIDEO_POLICIES

_TIOU_PRESETS = {
    "thumos": ev.THUMOS_TIOUS,
    "thumos_full": ev.THUMOS_TIOUS_FULL,
    "anet": ev.ANET_TIOUS,
}

def _parser() -> "cli_errors.QuickParser":
  """The command line: absl-style ``--name=value`` flags, parsed with
  argparse because absl's import would add a tenth to the evaluator's CPU
  time (see ``docs/benchmarks.md``)."""
  p = cli_errors.QuickParser(
      prog="python -m wtal_jax.evaluate", description=__doc__,
      allow_abbrev=False,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  flag = p.add_argument
  flag("--ground_truth", required=True,
       help="Ground-truth JSON (ActivityNet 'database' format).")
  flag("--predictions", required=True,
       help="Predictions JSON (ActivityNet 'results' format).")
  flag("--subset", default="test", help="Evaluate the videos whose 'subset' "
       "is this; empty for all videos of the file. Default: test.")
  flag("--tiou", default="thumos", help="tIoU thresholds: 'thumos' "
       "(0.1:0.1:0.7, the default), 'thumos_full' (0.1:0.1:0.9), 'anet' "
       "(0.5:0.05:0.95) or a comma-separated list such as '0.3,0.5'.")
  flag("--remove_ambiguous", default="", help="Path of THUMOS14's "
       "Ambiguous_test.txt: remove predictions that overlap an ambiguous "
       "segment (off when empty; the number removed is reported).")
  flag("--per_class", action="store_true",
       help="Also print the AP of every class.")
  flag("--noper_class", dest="per_class", action="store_false",
       help=argparse.SUPPRESS)
  flag("--output_json", default="",
       help="Also write the scores (per-class AP included) here.")
  flag("--outside_subset", default="fp", choices=["fp", "drop", "error"],
       help="Predictions on videos of the ground-truth file outside "
       "--subset: 'fp' scores them as false positives (as the official "
       "evaluator does; the default), 'drop' ignores them, 'error' stops. "
       "Counted in every case.")
  flag("--unknown_videos", default="error",
       choices=list(UNKNOWN_VIDEO_POLICIES), help="Predictions on videos "
       "absent from the ground-truth file: 'error' (the default) stops (a "
       "mistyped id would otherwise lower the mAP unnoticed), 'drop' ignores "
       "them, 'fp' scores them as false positives (as the official "
       "evaluator does). Counted in every case.")
  flag("--invalid", default="error", choices=["error", "drop"],
       help="Prediction entries with an unknown label, a malformed, NaN, "
       "negative or reversed segment, or a missing or NaN score: stop (the "
       "default), or drop and count them.")
  return p


def parse_tious(spec: str) -> np.ndarray:
  """Thresholds from a preset name or a comma-separated list."""
  if spec in _TIOU_PRESETS:
    return np.asarray(_TIOU_PRESETS[spec])
  try:
    values = [float(x) for x in spec.split(",") if x.strip()]
  except ValueError:
    values = []
  if not values or not all(0.0 <= v <= 1.0 for v in values):
    raise ev.EvaluationInputError(
        f"--tiou={spec!r}: use one of {sorted(_TIOU_PRESETS)} or numbers in "
        "[0, 1] separated by commas, e.g. --tiou=0.3,0.5.")
  return np.asarray(values)


def run(ground_truth: str, predictions: str, subset: str | None = "test",
        tiou: str = "thumos", remove_ambiguous: str = "",
        per_class: bool = False, output_json: str = "",
        outside_subset: str = "fp", unknown_videos: str = "error",
        invalid: str = "error", out=None) -> ev.DetectionResult:
  """Reads, scores and prints (to ``out``, default ``sys.stdout`` at call
  time); the function behind the command line."""
  out = out or sys.stdout
  tious = parse_tious(tiou)
  gt, gt_report = ev.read_ground_truth_json(ground_truth, subset or None)
  if remove_ambiguous:
    gt = gt.with_ambiguous(*ev.read_ambiguous_txt(remove_ambiguous))
  preds, pred_report = ev.read_predictions_json(
      predictions, gt, invalid=invalid, unknown_videos=unknown_videos,
      database_videos=gt_report.database_videos)
  result = ev.detection_map(gt, preds, tious,
                            remove_ambiguous=bool(remove_ambiguous),
                            outside_subset=outside_subset,
                            database_videos=gt_report.database_videos)
  print(f"Ground truth: {ground_truth} (subset {subset or 'all'!r})", file=out)
  print(f"Predictions:  {predictions}", file=out)
  print("", file=out)
  print(result.table(per_class=per_class), file=out)
  for line in gt_report.lines() + pred_report.lines():
    print(line, file=out)
  if output_json:
    summary = result.to_dict()
    summary.update(
        ground_truth=os.path.abspath(ground_truth),
        predictions=os.path.abspath(predictions), subset=subset or None,
        ambiguous_file=(os.path.abspath(remove_ambiguous)
                        if remove_ambiguous else None),
        dropped_entries=dict(
            (r, n) for r, n in pred_report.counts.items()
            if r in pred_report.dropped),
        warnings=gt_report.lines() + pred_report.lines())
    folder = os.path.dirname(os.path.abspath(output_json))
    os.makedirs(folder, exist_ok=True)
    with open(output_json, "w", encoding="utf-8") as f:
      json.dump(summary, f, indent=2)
    print(f"Wrote {output_json}", file=out)
  return result


def main(argv: list[str] | None = None) -> int:
  """Parses ``argv`` (default ``sys.argv[1:]``), scores and prints."""
  args = _parser().parse_args(argv)
  try:
    run(args.ground_truth, args.predictions, args.subset, args.tiou,
        args.remove_ambiguous, args.per_class, args.output_json,
        args.outside_subset, args.unknown_videos, args.invalid)
  except ev.EvaluationInputError as e:
    cli_errors.fail(str(e))
  except ValueError as e:  # Consistency errors found while scoring.
    cli_errors.fail(str(e))
  return 0


if __name__ == "__main__":
  sys.exit(main())
