"""Writes a bench's table and JSON record side by side in ``bench/results``."""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any


def machine(load_start: float, load_end: float, **extra: Any) -> dict:
  """What a record says about the machine: platform, cores, load averages."""
  return {"platform": platform.platform(), "cpu_count": os.cpu_count(),
          **extra, "load_average_1min": {"start": load_start,
                                         "end": load_end}}


def write(out_dir: str, name: str, table: str, record: dict) -> str:
  """Writes ``<name>-<time>.md`` (the table) and ``.json`` (the record) in
  ``out_dir``, prints where, and returns their common path stem."""
  os.makedirs(out_dir, exist_ok=True)
  base = os.path.join(out_dir, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
  with open(base + ".md", "w", encoding="utf-8") as f:
    f.write(table + "\n")
  with open(base + ".json", "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  print(f"Wrote {base}.md and {base}.json")
  return base
