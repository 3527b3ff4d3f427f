"""Analysis of trained models: gate selection rates (LGCA Table 6), forward
FLOPs (LGCA Tables 1-2) and CAS / gate plots (CAAV Fig. 4).

  from wtal_jax import analysis
  run = analysis.load_run(workdir)
  table = analysis.selection_rates(run.experiment.model, run.variables,
                                   analysis.run_batches(run),
                                   run.modality_names)
  print(table.to_markdown())
"""

from wtal_jax.analysis.flops import FlopsReport, cost_table, flops, model_flops
from wtal_jax.analysis.plots import plot_selection_rates, plot_video, save
from wtal_jax.analysis.run import (LoadedRun, eval_batches, load_run,
                                   run_batches, video_outputs, video_subset)
from wtal_jax.analysis.selection import (GATE_TITLES, SelectionRates,
                                         SelectionRow, selection_rates,
                                         stats_from_probs, table_from_stats)

__all__ = [
    "FlopsReport", "GATE_TITLES", "LoadedRun", "SelectionRates",
    "SelectionRow", "cost_table", "eval_batches", "flops",
    "load_run", "model_flops", "plot_selection_rates", "plot_video",
    "run_batches", "save", "selection_rates", "stats_from_probs",
    "table_from_stats", "video_outputs", "video_subset",
]
