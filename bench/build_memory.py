r"""Peak memory of converting a full-size THUMOS14 W-TALC release.

Writes a W-TALC ``Thumos14reduced-I3D-JOINTFeatures.npy`` of the real size
(412 videos, T from the annotated durations, 2048 float32 columns: about
1.1 GB) with random values, then converts it with ``data_prep.build
thumos14`` in a child process and reads the child's peak RSS. A second child
that only imports the same modules gives the baseline. The build may hold at
most one copy of the features (the pickled release cannot be memory-mapped),
so ``peak - baseline`` should stay near the file size, not twice it.

  python bench/build_memory.py \
      --annotations=../shared/data/Thumos14reduced-Annotations [--workdir=/tmp/x]

Prints a table and writes bench/results/build_memory-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPS = 16 / 25

# Peak RSS is read from VmHWM, which starts afresh with the child's exec
# (getrusage's ru_maxrss would carry the parent's peak across exec).
_PEAK = """
def peak_kb():
  for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
      return int(line.split()[1])
"""

_CHILD_BUILD = _PEAK + """
import sys
sys.argv = ["build"] + sys.argv[1:]
from data_prep import build
try:
  build.cli()
except SystemExit as e:
  print("PEAK_KB", peak_kb())
  raise
"""

_CHILD_BASELINE = _PEAK + """
from absl import app
from data_prep import build, convert, thumos14
import tensorflow_datasets
print("PEAK_KB", peak_kb())
"""


def write_release(path: str, ann_dir: str, width: int = 2048) -> int:
  """Writes the features file one video at a time; returns its bytes."""
  durations = np.load(os.path.join(ann_dir, "duration.npy")).reshape(-1)
  rows = np.empty(len(durations), dtype=object)
  rng = np.random.default_rng(0)
  for i, d in enumerate(durations):
    t = max(1, math.ceil(d / SPS - 1e-6))
    rows[i] = (rng.standard_normal((t, width), np.float32) + 2.0)
  np.save(path, rows, allow_pickle=True)
  del rows
  return os.path.getsize(path)


def run_child(code: str, args: list[str]) -> tuple[int, float, str]:
  t0 = time.time()
  out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT,
                       capture_output=True, text=True, check=False)
  peak = [l for l in out.stdout.splitlines() if l.startswith("PEAK_KB")]
  if not peak:
    raise RuntimeError(f"child failed:\n{out.stdout[-3000:]}\n"
                       f"{out.stderr[-3000:]}")
  return int(peak[-1].split()[1]) * 1024, time.time() - t0, out.stdout


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--annotations", default=os.path.join(
      ROOT, "..", "shared", "data", "Thumos14reduced-Annotations"))
  parser.add_argument("--workdir", default=None)
  parser.add_argument("--keep", action="store_true")
  args = parser.parse_args()
  work = args.workdir or tempfile.mkdtemp(prefix="build_memory_")
  os.makedirs(work, exist_ok=True)
  features = os.path.join(work, "Thumos14reduced-I3D-JOINTFeatures.npy")
  try:
    t0 = time.time()
    size = write_release(features, args.annotations)
    write_s = time.time() - t0
    base, _, _ = run_child(_CHILD_BASELINE, [])
    peak, build_s, stdout = run_child(_CHILD_BUILD, [
        "thumos14", "--layout=wtalc", f"--features={features}",
        f"--annotations={args.annotations}",
        f"--data_dir={os.path.join(work, 'tfds')}", "--overwrite"])
    summary = [l for l in stdout.splitlines() if "videos," in l]
    result = {
        "features_file_bytes": size,
        "baseline_peak_rss_bytes": base,
        "build_peak_rss_bytes": peak,
        "build_minus_baseline_bytes": peak - base,
        "copies_of_features": (peak - base) / size,
        "build_seconds": build_s,
        "write_release_seconds": write_s,
        "summary": summary,
    }
  finally:
    if not args.keep:
      shutil.rmtree(work, ignore_errors=True)
  gib = lambda b: b / 2**30
  print(f"{'features file':34s} {gib(size):8.3f} GiB")
  print(f"{'peak RSS, imports only':34s} {gib(base):8.3f} GiB")
  print(f"{'peak RSS, full build':34s} {gib(peak):8.3f} GiB")
  print(f"{'build - imports':34s} {gib(peak - base):8.3f} GiB  "
        f"({result['copies_of_features']:.2f} x the features)")
  print(f"{'build time':34s} {build_s:8.1f} s")
  for line in summary:
    print(line)
  os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
  out = os.path.join(ROOT, "bench", "results",
                     f"build_memory-{time.strftime('%Y%m%d-%H%M%S')}.json")
  with open(out, "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
