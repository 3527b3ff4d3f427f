"""Pure, seeded sampling of training batches.

Which videos and which snippets a training step sees is a pure function of
``(seed, step)``, independent of the number of devices or hosts. Resuming at
step k therefore replays exactly the batches an uninterrupted run would see,
and every host can compute the global batch and read only its own rows.
"""

from __future__ import annotations

import numpy as np

SNIPPET_SAMPLING = ("random_crop", "uniform", "all", "uniform_stretch")


def step_rng(seed: int, step: int, *streams: int) -> np.random.Generator:
  """An independent NumPy generator for ``(seed, step, *streams)``."""
  return np.random.default_rng([int(seed), int(step), *map(int, streams)])


def sample_batch_videos(seed: int, step: int, labels_VxC: np.ndarray,
                        batch_size: int, num_pairs: int) -> np.ndarray:
  """Chooses the videos of one global training batch.

  The first ``2 * num_pairs`` slots hold pairs of videos that share a class,
  at positions ``(2k, 2k+1)`` (for the co-activity similarity loss); the
  remaining slots are filled with other videos drawn uniformly without
  replacement. A class is eligible for a pair when at least two videos have
  it.

  Args:
    seed: Experiment seed.
    step: Training step.
    labels_VxC: Multi-hot labels of the training split.
    batch_size: Global batch size B.
    num_pairs: Number of same-class pairs, ``2 * num_pairs <= B``.

  Returns:
    ``(B,)`` video indices.
  """
  num_videos = labels_VxC.shape[0]
  if 2 * num_pairs > batch_size:
    raise ValueError(f"num_pairs={num_pairs} needs a batch of at least "
                     f"{2 * num_pairs}, got batch_size={batch_size}.")
  rng = step_rng(seed, step, 0)
  positives = labels_VxC > 0
  eligible = np.flatnonzero(positives.sum(0) >= 2)
  chosen: list[int] = []
  for _ in range(num_pairs):
    if eligible.size == 0:
      break
    c = rng.choice(eligible)
    members = np.flatnonzero(positives[:, c])
    chosen.extend(int(v) for v in rng.choice(members, size=2, replace=False))
  rest = batch_size - len(chosen)
  pool = np.setdiff1d(np.arange(num_videos), chosen)
  if pool.size >= rest:
    chosen.extend(int(v) for v in rng.choice(pool, size=rest, replace=False))
  else:  # Tiny datasets: allow repeats rather than fail.
    chosen.extend(int(v) for v in rng.choice(num_videos, size=rest))
  return np.asarray(chosen, np.int64)


def sample_snippets(rng: np.random.Generator, video_length: int,
                    num_snippets: int, strategy: str) -> tuple[np.ndarray, int]:
  """Chooses which snippets of a video fill a training sequence of
  ``num_snippets``.

  Args:
    rng: Generator for this video slot.
    video_length: The video's real length T.
    num_snippets: The fixed training length L (``config.data.num_snippets``).
    strategy: ``random_crop``: a random contiguous window of L snippets
      (W-TALC); ``uniform``: L sorted indices, one drawn uniformly from each
      of L equal segments (UM, ASL); ``all``: the first L snippets. These
      three take videos with ``T <= L`` whole and pad them.
      ``uniform_stretch`` (CO2-Net's public sampler) always fills all L
      positions: position i draws uniformly from the snippets
      ``floor(i T / L) .. floor((i + 1) T / L)`` (both ends included; the
      last position reaches ``T - 1``), so a long video is subsampled with
      jitter and a short one is stretched by repeating snippets. ``T = L``
      is taken as is.

  Returns:
    ``(indices, n)``: ``n`` real snippets, ``indices[:n]`` in time order.
  """
  T, L = video_length, num_snippets  # pylint: disable=invalid-name
  if T <= 0:
    raise ValueError("Cannot sample snippets from an empty video.")
  if strategy == "uniform_stretch":
    return _uniform_stretch(rng, T, L), L
  if T <= L:
    return np.arange(T), T
  if strategy == "random_crop":
    start = int(rng.integers(0, T - L + 1))
    return np.arange(start, start + L), L
  if strategy == "uniform":
    edges = np.linspace(0, T, L + 1)
    lo, hi = np.floor(edges[:-1]), np.maximum(np.floor(edges[1:]), np.floor(edges[:-1]) + 1)
    idx = np.minimum((lo + rng.random(L) * (hi - lo)).astype(np.int64),
                     T - 1)
    return idx, L
  if strategy == "all":
    return np.arange(L), L
  raise ValueError(f"Unknown snippet sampling {strategy!r}; choose one of "
                   f"{SNIPPET_SAMPLING}.")


def _uniform_stretch(rng: np.random.Generator, T: int,  # pylint: disable=invalid-name
                     L: int) -> np.ndarray:  # pylint: disable=invalid-name
  """L sorted indices, one per segment, segments' ends shared (see
  :func:`sample_snippets`)."""
  if T == L:
    return np.arange(L)
  lo = np.arange(L) * T // L
  hi = np.append(lo[1:], T - 1)
  return lo + np.floor(rng.random(L) * (hi - lo + 1)).astype(np.int64)
