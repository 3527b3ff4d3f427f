"""The tables of ``bench/heads.py``: the summary over seeds and every run.

``rows[row][fusion][seed]`` holds a run's record: ``avg_map``, ``metrics``,
``recipe``, ``fusion_kind``, ``steps`` and ``selection_rates``
(``gate_rate/<gate>_gate_<m>/<path>`` of its last test evaluation).
"""

from __future__ import annotations

import json
import math
import re


def _mean(values):
  return sum(values) / len(values) if values else float("nan")


def _std(values):
  if len(values) < 2:
    return 0.0
  m = _mean(values)
  return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def summary_cell(values, total: int, label: str = "") -> str:
  """``mean ± sd (min–max)`` of a fusion's avg mAPs, marked when seeds are
  missing."""
  if not values:
    return "-"
  text = f"{_mean(values):.2f}{label}"
  if len(values) > 1:
    text += f" ± {_std(values):.2f} ({min(values):.1f}–{max(values):.1f})"
  if len(values) != total:
    text += f" ({len(values)} of {total} seeds)"
  return text


def selection_cell(rates: dict[str, float]) -> str:
  """``skip1: X 100/100, X̃(1) 0/0``: each gate's paths, the rate over the
  test snippets per modality (``/``-separated, in modality order)."""
  by_gate: dict[str, dict[str, dict[int, float]]] = {}
  for key, rate in rates.items():
    match = re.fullmatch(r"gate_rate/(\w+)_gate_(\d+)/(.+)", key)
    if match:
      gate, m, path = match.group(1), int(match.group(2)), match.group(3)
      by_gate.setdefault(gate, {}).setdefault(path, {})[m] = rate
  parts = []
  for gate, paths in by_gate.items():
    shown = ", ".join(
        f"{path} " + "/".join(f"{100 * v[m]:.0f}" for m in sorted(v))
        for path, v in paths.items())
    parts.append(f"{gate}: {shown}")
  return "; ".join(parts) or "-"


def markdown(rows, fusions, seeds) -> str:
  """The summary (mean ± sd and range over seeds per fusion, and LGCA minus
  the head's own fusion) and every run with its classification mAP, number
  of predicted segments and selection rates."""
  seeds = [str(s) for s in seeds]
  show_gap = "own" in fusions and "lgca" in fusions
  head = ("| head | " + " | ".join(f"{f} avg mAP (%)" for f in fusions)
          + (" | lgca − own |" if show_gap else " |"))
  lines = [f"Mean ± standard deviation (min–max) over seeds "
           f"{', '.join(seeds)}.", "", head,
           "| --- | " + " | ".join("---:" for _ in fusions)
           + (" | ---: |" if show_gap else " |")]
  means = {}
  for row, runs in rows.items():
    cells = []
    for f in fusions:
      done = [100 * runs[f][s]["avg_map"] for s in seeds
              if s in runs.get(f, {})]
      means[(row, f)] = _mean(done) if len(done) == len(seeds) else None
      kind = next(iter(runs[f].values()))["fusion_kind"] if runs.get(f) else ""
      label = f" ({kind})" if f == "own" and kind else ""
      cells.append(summary_cell(done, len(seeds), label))
    gap = ""
    if show_gap:
      a, b = means[(row, "lgca")], means[(row, "own")]
      gap = " | " + ("-" if a is None or b is None else f"{a - b:+.2f}")
    lines.append(f"| {row} | " + " | ".join(cells) + gap + " |")
  lines += ["", "| head | fusion | seed | steps | avg mAP (%) | cls mAP (%) | "
            "segments | classes predicted | selection rate (%) | recipe |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | "
            "--- |"]
  for row, runs in rows.items():
    for f in fusions:
      for s in seeds:
        if s not in runs.get(f, {}):
          continue
        r, m = runs[f][s], runs[f][s]["metrics"]
        lines.append(
            f"| {row} | {f} ({r['fusion_kind']}) | {s} | "
            f"{r.get('steps', '')} | {100 * r['avg_map']:.2f} | "
            f"{100 * m.get('cls_map', float('nan')):.2f} | "
            f"{m.get('num_predictions', float('nan')):.0f} | "
            f"{m.get('num_predicted_classes', float('nan')):.0f} | "
            f"{selection_cell(r.get('selection_rates', {}))} | "
            f"{r['recipe']} |")
  return "\n".join(lines)


def write(rows, fusions, seeds, budget, seconds: float, base: str) -> str:
  """Writes the tables (``base.md``) and the records (``base.json``)."""
  table = markdown(rows, fusions, seeds)
  text = (f"Average mAP@[0.1:0.1:0.7] on synthetic_thumos, budget {budget}, "
          f"{seconds:.0f} s in all.\n\n{table}\n")
  with open(base + ".md", "w", encoding="utf-8") as f:
    f.write(text)
  with open(base + ".json", "w", encoding="utf-8") as f:
    json.dump({"budget": budget, "results": rows}, f, indent=2)
  return text
