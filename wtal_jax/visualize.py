r"""Plots of a trained run: one video's localization and the gate selection
rates.

Usage:
  python -m wtal_jax.visualize --workdir=/tmp/wtal_lgca --video=VIDEO_ID \
      [--checkpoint=best|latest] [--split=test] [--out_dir=WORKDIR/plots]

Reads ``config.json`` and the best (by average mAP) or latest checkpoint of
the run in ``--workdir`` and writes into ``--out_dir``:

* ``<video>_cas.png``: ground truth, predictions, the CAS of the
  ground-truth classes, the foreground score and the per-snippet major path
  of every gate (CAAV Fig. 4 layout);
* ``selection_rates.png`` and ``selection_rates.md``: the selection rate ζ
  of every gate path over the split (LGCA Table 6), for LGCA fusions.

Without ``--video`` the first video of the split is drawn; ``--video=list``
prints the split's video ids.
"""

from __future__ import annotations

import functools
import os
import types

from absl import app, flags, logging

from wtal_jax import cli_errors

@functools.cache
def _flags() -> types.SimpleNamespace:
  """The command-line flags, defined on the first call.

  Only running the module as a program calls it, so that the module can be
  imported next to the other command-line modules (which also define
  ``--workdir``)."""
  workdir = flags.DEFINE_string(
      "workdir", None, "The training run's workdir.")
  video = flags.DEFINE_string(
      "video", "", "Video id to plot ('' = the split's first video; 'list' "
      "prints the ids).")
  checkpoint = flags.DEFINE_enum(
      "checkpoint", "best", ["best", "latest"], "Which checkpoint to restore.")
  split = flags.DEFINE_string(
      "split", "", "Split ('' = config.data.test_split).")
  out_dir = flags.DEFINE_string(
      "out_dir", "", "Output folder ('' = WORKDIR/plots).")
  rates = flags.DEFINE_bool(
      "selection_rates", True,
      "Also compute and plot the gate selection rates over the whole split.")
  flags.mark_flags_as_required(["workdir"])
  return types.SimpleNamespace(**locals())  # Each local is a flag.


def visualize(workdir: str, video: str = "", checkpoint: str = "best",
              split: str = "", out_dir: str = "",
              selection_rates: bool = True) -> dict[str, str]:
  """Writes the plots of a run (see the module docstring).

  Returns:
    ``{"cas": path, "selection_rates": path, "selection_table": path}`` of
    the files written (the last two only for models with gates).
  """
  # Imported here so that --help does not pay for JAX and the model code.
  from wtal_jax import analysis  # pylint: disable=g-import-not-at-top

  run = analysis.load_run(workdir, checkpoint)
  exp = run.experiment
  split_name = split or exp.config.data.test_split
  ids = exp.dataset.split(split_name).index.video_ids
  if video == "list":
    print("\n".join(ids))
    return {}
  video = video or ids[0]
  out_dir = out_dir or os.path.join(workdir, "plots")
  outputs, detections = analysis.video_outputs(run, [video], split_name)
  title = (f"{video} | {exp.config.model.fusion.kind} + "
           f"{exp.config.model.head.kind} | step {run.step}")
  fig = analysis.plot_video(outputs[0], detections, exp.meta.class_names,
                            run.modality_names, title=title)
  written = {"cas": analysis.save(
      fig, os.path.join(out_dir, f"{_safe(video)}_cas.png"))}
  print(f"Wrote {written['cas']}")
  if selection_rates and outputs[0].gate_probs:
    table = analysis.selection_rates(exp.model, run.variables,
                                     analysis.run_batches(run, split_name),
                                     run.modality_names)
    written["selection_rates"] = analysis.save(
        analysis.plot_selection_rates(
            table, f"Gate selection rates on {split_name} (step {run.step})"),
        os.path.join(out_dir, "selection_rates.png"))
    written["selection_table"] = os.path.join(out_dir, "selection_rates.md")
    with open(written["selection_table"], "w", encoding="utf-8") as f:
      f.write(table.to_markdown() + "\n")
    print(table.to_markdown())
    print(f"Wrote {written['selection_rates']} and "
          f"{written['selection_table']}")
  return written


def _safe(name: str) -> str:
  return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def main(argv):
  args = _flags()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    # The written paths are the output; the libraries' INFO logs (dataset
    # info, one block per checkpoint restore) would bury them.
    logging.set_verbosity(logging.WARNING)
  visualize(args.workdir.value, args.video.value, args.checkpoint.value,
            args.split.value, args.out_dir.value, args.rates.value)


def cli():
  """The command line (also for running it in-process, e.g. in tests)."""
  _flags()
  # A workdir that is not a run (no config or checkpoint) and an unknown
  # video id are the user's mistakes: one line, exit status 2.
  cli_errors.run(main, also=(FileNotFoundError, KeyError))


if __name__ == "__main__":
  cli()
