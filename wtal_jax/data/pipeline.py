"""Training and evaluation batches with static shapes.

Training batches have a fixed ``(B, L)`` snippet grid, so the train step
compiles once. Evaluation batches hold whole videos padded to a length bucket,
so the evaluation step compiles once per bucket. Every batch is a dict:

* ``inputs``: a tuple with one ``(B, L, D_g)`` float32 array per modality group
  (``config.data.modalities``; ``"rgb+flow"`` concatenates rgb and flow);
* ``mask``: ``(B, L)`` bool, True on real snippets;
* ``labels``: ``(B, C)`` multi-hot float32;
* ``slot``: ``(B,)`` int32, the row's position in the *global* batch, which
  seeds its per-example randomness;
* ``video_index``: ``(B,)`` int32 index into the split, -1 for padding rows.

Batches are built for the rows a process owns (``rows``), so multi-host jobs
read only their share.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from typing import Iterator, Mapping, Sequence

import numpy as np

from wtal_jax.data import sampling
from wtal_jax.data.normalization import FeatureStats
from wtal_jax.data.source import VideoSplit


def parse_modalities(groups: Sequence[str]) -> tuple[tuple[str, ...], ...]:
  """``("rgb+flow", "audio") -> (("rgb", "flow"), ("audio",))``."""
  return tuple(tuple(g.split("+")) for g in groups)


def group_dims(groups, modality_dims) -> tuple[int, ...]:
  """Feature width of each modality group."""
  return tuple(sum(modality_dims[m] for m in g) for g in groups)


def video_features(example: dict, groups,
                   stats: FeatureStats | None = None) -> list[np.ndarray]:
  """Concatenates each group's modalities for one decoded example,
  standardising them first when ``stats`` is given.

  Raises:
    ValueError: If the modalities of the video disagree in length.
  """
  lengths = {m: example[m].shape[0] for g in groups for m in g}
  if len(set(lengths.values())) != 1:
    raise ValueError(
        f"Video {example['video_id']}: modalities have different numbers of "
        f"snippets {lengths}; re-run the dataset converter, which aligns them.")
  get = (lambda m: example[m]) if stats is None else (
      lambda m: stats.apply(m, example[m]))
  return [np.concatenate([get(m) for m in g], axis=-1) if len(g) > 1
          else get(g[0]) for g in groups]


def instance_counts(example: dict, num_classes: int) -> np.ndarray:
  """Number of ground-truth instances of each class in a video, ``(C,)``."""
  labels = np.asarray(example["segment_labels"], np.int64).reshape(-1)
  return np.bincount(labels, minlength=num_classes)[:num_classes].astype(
      np.float32)


def _empty_batch(rows: int, length: int, dims, num_classes: int) -> dict:
  return {
      "inputs": tuple(np.zeros((rows, length, d), np.float32) for d in dims),
      "mask": np.zeros((rows, length), bool),
      "labels": np.zeros((rows, num_classes), np.float32),
      # Ground-truth instances per class in the whole video (3C-Net's
      # counting loss); a video-level fact, like the label.
      "counts": np.zeros((rows, num_classes), np.float32),
      "slot": np.zeros((rows,), np.int32),
      "video_index": np.full((rows,), -1, np.int32),
  }


@dataclasses.dataclass
class TrainBatcher:
  """Builds the local rows of the training batch of any step.

  Attributes:
    split: The training split.
    groups: Parsed modality groups.
    batch_size: Global batch size.
    num_pairs: Same-class pairs at the front of each batch.
    num_snippets: Training length L.
    snippet_sampling: See :func:`sampling.sample_snippets`.
    seed: Experiment seed.
    rows: The global rows this process fills (default: all).
    stats: Optional input standardisation.
  """

  split: VideoSplit
  groups: tuple[tuple[str, ...], ...]
  batch_size: int
  num_pairs: int
  num_snippets: int
  snippet_sampling: str
  seed: int
  rows: Sequence[int] | None = None
  stats: FeatureStats | None = None

  def __post_init__(self):
    if self.rows is None:
      self.rows = range(self.batch_size)
    self.dims = group_dims(self.groups, self.split.meta.modality_dims)

  def video_indices(self, step: int) -> np.ndarray:
    return sampling.sample_batch_videos(
        self.seed, step, self.split.index.labels_VxC, self.batch_size,
        self.num_pairs)

  def batch(self, step: int) -> dict:
    videos = self.video_indices(step)
    rows = list(self.rows)
    out = _empty_batch(len(rows), self.num_snippets, self.dims,
                       self.split.meta.num_classes)
    for r, slot in enumerate(rows):
      v = int(videos[slot])
      ex = self.split[v]
      feats = video_features(ex, self.groups, self.stats)
      rng = sampling.step_rng(self.seed, step, 1, slot)
      idx, n = sampling.sample_snippets(rng, feats[0].shape[0],
                                        self.num_snippets,
                                        self.snippet_sampling)
      for g, f in enumerate(feats):
        out["inputs"][g][r, :n] = f[idx[:n]]
      out["mask"][r, :n] = True
      out["labels"][r] = ex["labels"]
      out["counts"][r] = instance_counts(ex, self.split.meta.num_classes)
      out["slot"][r] = slot
      out["video_index"][r] = v
    return out

  def iterate(self, start_step: int, num_steps: int,
              prefetch: int = 2) -> Iterator[tuple[int, dict]]:
    """Yields ``(step, batch)`` for ``start_step <= step < num_steps``,
    reading ahead on a background thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
      pending = {}
      for step in range(start_step, min(start_step + prefetch, num_steps)):
        pending[step] = pool.submit(self.batch, step)
      for step in range(start_step, num_steps):
        nxt = step + prefetch
        if nxt < num_steps:
          pending[nxt] = pool.submit(self.batch, nxt)
        yield step, pending.pop(step).result()


def bucket_length(video_length: int, buckets: Sequence[int]) -> int:
  """The smallest bucket that fits a video; beyond the largest bucket,
  the next multiple of it (a new compile, but rare)."""
  for b in sorted(buckets):
    if video_length <= b:
      return int(b)
  top = max(buckets)
  return int(-(-video_length // top) * top)


def fitted_buckets(video_length_V: np.ndarray, num_buckets: int,
                   multiple: int = 16) -> tuple[int, ...]:
  """At most ``num_buckets`` bucket lengths for these videos, chosen to pad
  as few snippets as possible.

  Each video is padded to the smallest bucket that holds it; the buckets
  are multiples of ``multiple``, the largest holds the longest video. The
  minimum of the padded total is found exactly, by dynamic programming over
  the sorted distinct (rounded) lengths. Fixed powers of two pad a typical
  THUMOS split to about 1.5 times its snippets; six fitted buckets to about
  1.3 times, with as many compiles.

  Args:
    video_length_V: Every video's length in snippets.
    num_buckets: How many buckets at most (one compile each).
    multiple: Bucket lengths are multiples of this.

  Returns:
    The bucket lengths, ascending.
  """
  lengths = np.asarray(video_length_V, np.int64).reshape(-1)
  if lengths.size == 0:
    return (multiple,)
  rounded = -(-np.maximum(lengths, 1) // multiple) * multiple
  cand, count = np.unique(rounded, return_counts=True)
  n = cand.shape[0]
  k_max = max(1, min(int(num_buckets), n))
  upto = np.concatenate([[0], np.cumsum(count)])  # Videos of cand[:j].
  # cost[k, j]: fewest padded snippets for the videos of cand[:j] with k
  # buckets, the largest being cand[j - 1]; first[k, j]: where its last
  # bucket's videos start.
  cost = np.full((k_max + 1, n + 1), np.inf)
  cost[0, 0] = 0.0
  first = np.zeros((k_max + 1, n + 1), np.int64)
  for k in range(1, k_max + 1):
    for j in range(1, n + 1):
      options = cost[k - 1, :j] + (upto[j] - upto[:j]) * float(cand[j - 1])
      first[k, j] = int(np.argmin(options))
      cost[k, j] = options[first[k, j]]
  k, j, out = int(np.argmin(cost[:, n])), n, []
  while j > 0:
    out.append(int(cand[j - 1]))
    j, k = int(first[k, j]), k - 1
  return tuple(sorted(out))


def eval_buckets(video_length_V: np.ndarray, eval_cfg) -> tuple[int, ...]:
  """The bucket lengths of an evaluation of these videos: fitted to them
  when ``eval_cfg.num_buckets`` > 0, else ``eval_cfg.buckets``."""
  num_buckets = int(eval_cfg.get("num_buckets", 0))
  if num_buckets > 0:
    return fitted_buckets(video_length_V, num_buckets)
  return tuple(eval_cfg.buckets)


@dataclasses.dataclass(frozen=True)
class EvalChunk:
  """One global evaluation batch: a bucket length and its video indices
  (``-1`` marks padding rows)."""

  length: int
  videos: tuple[int, ...]


def eval_plan(video_length_V: np.ndarray, buckets: Sequence[int],
              max_snippets_per_batch: int, row_multiple: int) -> list[EvalChunk]:
  """Groups whole videos into padded, length-bucketed global batches.

  Every video appears exactly once. Batches have ``row_multiple * k`` rows
  (the global device count divides them), with at most about
  ``max_snippets_per_batch`` padded snippets.
  """
  by_bucket: dict[int, list[int]] = {}
  for v, t in enumerate(video_length_V):
    by_bucket.setdefault(bucket_length(int(t), buckets), []).append(v)
  plan = []
  for length in sorted(by_bucket):
    videos = by_bucket[length]
    # All batches of a bucket share one row count, so a bucket compiles once;
    # the videos are spread evenly over the fewest batches that hold them,
    # so that the last batch is not mostly empty rows.
    rows = min(max(1, max_snippets_per_batch // length), len(videos))
    num_batches = -(-len(videos) // rows)
    rows = -(-len(videos) // num_batches)
    rows = -(-rows // row_multiple) * row_multiple
    for i in range(0, len(videos), rows):
      chunk = videos[i:i + rows]
      plan.append(EvalChunk(length, tuple(chunk + [-1] * (rows - len(chunk)))))
  return plan


def eval_batch(split: VideoSplit, groups, chunk: EvalChunk,
               rows: Sequence[int] | None = None,
               stats: FeatureStats | None = None,
               examples: Mapping[int, dict] | None = None) -> dict:
  """Builds the rows ``rows`` (default: all) of one evaluation batch.

  ``examples`` may hold videos already read (``{video index: example}``),
  so that a caller that needs them too reads each video once.
  """
  rows = range(len(chunk.videos)) if rows is None else rows
  dims = group_dims(groups, split.meta.modality_dims)
  out = _empty_batch(len(rows), chunk.length, dims, split.meta.num_classes)
  for r, slot in enumerate(rows):
    v = chunk.videos[slot]
    out["slot"][r] = slot
    if v < 0:
      continue
    ex = examples[v] if examples and v in examples else split[v]
    feats = video_features(ex, groups, stats)
    n = feats[0].shape[0]
    for g, f in enumerate(feats):
      out["inputs"][g][r, :n] = f
    out["mask"][r, :n] = True
    out["labels"][r] = ex["labels"]
    out["counts"][r] = instance_counts(ex, split.meta.num_classes)
    out["video_index"][r] = v
  return out
