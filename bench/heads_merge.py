"""Merges records of ``bench/heads.py`` into one table.

A bench of every head over three seeds takes hours on a 2-core machine, so
it is often run in pieces (``--seeds=2``, ``--heads=co2net``, a variant
column). This writes the union of their runs as one ``heads-merged-*.md``
and ``.json``, in the same format:

  python bench/heads_merge.py bench/results/heads-A.json \\
      bench/results/heads-B.json --output_dir=bench/results

Only records at the same budget (steps, crops, batch, data) are merged. A
run (row, fusion, seed) present in several records must have the same
result in each; otherwise the merge stops and names both files. A row that
a later piece re-ran under a changed recipe is left out of the older record
by name (or one column of it, FILE:ROW:FUSION), and the merged JSON lists
what was left out:

  python bench/heads_merge.py bench/results/heads-*.json \
      --drop="heads-A.json:caav" --drop="heads-A.json:caav (audio-visual)" \
      --drop="heads-B.json:co2net:lgca"
"""

from __future__ import annotations

import json
import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import heads_table  # pylint: disable=g-import-not-at-top

_OUT = flags.DEFINE_string("output_dir", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "results"),
                           "Where the merged table and JSON go.")
_DROP = flags.DEFINE_multi_string(
    "drop", [], "FILE:ROW, e.g. heads-A.json:caav: leave the row out of that "
    "record (FILE is the record's file name); FILE:ROW:FUSION leaves out one "
    "column of the row, e.g. heads-A.json:co2net:lgca; repeat for several.")

# Budget fields that must agree (the seeds and jobs of a piece may differ).
BUDGET_KEYS = ("steps", "num_snippets", "batch_size", "builder_config")
# Column order: the head's own fusion, the paper's LGCA, then variants.
FIRST_COLUMNS = ("own", "lgca")


class MergeError(ValueError):
  """Records that cannot be merged (another budget, conflicting runs)."""


def merge(records: list[tuple[str, dict]], drop=()):
  """The union of ``[(path, record), ...]`` of ``bench/heads.py``.

  Args:
    records: ``(path, record)`` pairs.
    drop: ``(file name, row)`` pairs to leave out of those records, or
      ``(file name, row, fusion)`` triples to leave out one column of a row.

  Returns:
    ``(rows, fusions, seeds, budget)`` for :func:`heads_table.write`.

  Raises:
    MergeError: The records' budgets differ, one run has two results, or a
      row to drop is not in its record.
  """
  if not records:
    raise MergeError("No records to merge.")
  drop = set(drop)
  rows_of = {os.path.basename(p): r["results"] for p, r in records}
  for name, row, *fusion in sorted(drop):
    spec = ":".join((name, row, *fusion))
    if row not in rows_of.get(name, {}):
      raise MergeError(f"--drop={spec}: no row {row!r} in a record "
                       f"named {name} (rows: {sorted(rows_of.get(name, {}))}).")
    if fusion and fusion[0] not in rows_of[name][row]:
      raise MergeError(f"--drop={spec}: row {row!r} of {name} has no fusion "
                       f"{fusion[0]!r} (fusions: "
                       f"{sorted(rows_of[name][row])}).")
  first_path, first = records[0]
  budget = {k: first["budget"].get(k) for k in BUDGET_KEYS}
  rows, origin = {}, {}
  for path, record in records:
    other = {k: record["budget"].get(k) for k in BUDGET_KEYS}
    if other != budget:
      raise MergeError(f"{path} was run at budget {other}, {first_path} at "
                       f"{budget}; only runs at one budget can share a table.")
    for row, by_fusion in record["results"].items():
      if (os.path.basename(path), row) in drop:
        continue
      for fusion, by_seed in by_fusion.items():
        if (os.path.basename(path), row, fusion) in drop:
          continue
        for seed, run in by_seed.items():
          key = (row, fusion, seed)
          held = rows.setdefault(row, {}).setdefault(fusion, {})
          if seed in held and held[seed]["avg_map"] != run["avg_map"]:
            raise MergeError(
                f"{row} + {fusion} (seed {seed}) scored "
                f"{100 * held[seed]['avg_map']:.2f} in {origin[key]} and "
                f"{100 * run['avg_map']:.2f} in {path}; remove one of them.")
          held.setdefault(seed, run)
          origin.setdefault(key, path)
  fusions = {f for runs in rows.values() for f in runs}
  ordered = [f for f in FIRST_COLUMNS if f in fusions]
  ordered += sorted(fusions - set(ordered))
  seeds = sorted({s for runs in rows.values() for by_seed in runs.values()
                  for s in by_seed}, key=int)
  budget["seeds"] = seeds
  budget["merged_from"] = [os.path.basename(p) for p, _ in records]
  if drop:
    budget["dropped"] = [":".join(d) for d in sorted(drop)]
  return rows, ordered, seeds, budget


def main(argv):
  paths = argv[1:]
  if not paths:
    raise app.UsageError("Name the heads-*.json records to merge.")
  records = []
  for path in paths:
    try:
      with open(path, encoding="utf-8") as f:
        records.append((path, json.load(f)))
    except (OSError, json.JSONDecodeError) as e:
      raise app.UsageError(f"Cannot read {path}: {e}") from e
  try:
    drop = [tuple(d.split(":", 2)) for d in _DROP.value]
    if any(len(d) < 2 for d in drop):
      raise MergeError(f"--drop takes FILE:ROW or FILE:ROW:FUSION, got "
                       f"{_DROP.value}.")
    rows, fusions, seeds, budget = merge(records, drop)
  except MergeError as e:
    raise app.UsageError(str(e)) from e
  # A run's "seconds" counts from its submission, so the longest run of a
  # record is about that bench's wall time; the pieces' times add up.
  seconds = sum(max((run.get("seconds", 0.0) for runs in r["results"].values()
                     for by_seed in runs.values() for run in by_seed.values()),
                    default=0.0) for _, r in records)
  os.makedirs(_OUT.value, exist_ok=True)
  base = os.path.join(_OUT.value,
                      f"heads-merged-{time.strftime('%Y%m%d-%H%M%S')}")
  print(heads_table.write(rows, fusions, seeds, budget, seconds, base))
  print(f"Wrote {base}.md and {base}.json")


if __name__ == "__main__":
  app.run(main)
