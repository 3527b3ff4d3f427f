"""The generative model of the synthetic multi-modal THUMOS-shaped features.

Everything is drawn in a *whitened* space per modality, in which the snippet
noise has unit variance in every dimension, and then mapped to I3D-like
non-negative activations:

  x_m[t] = relu(base_m * gain_m[t] + sigma_m * h_m[t])

``base_m`` (D,) is the mean background activation (Gamma distributed, mean
~0.3), ``sigma_m = noise_scale * sqrt(base_m)`` makes the spread grow with the
activation as pooled ReLU activations do, and ``gain_m[t]`` is a per-snippet
magnitude: actions and clutter excite a modality more than background, so the
feature norm is a (fallible) actionness cue as in real I3D features:

  gain_m[t] = 1 + (M_act * a[t] * (1 - rho_m k_m[t]) + M_ctx * max_c ctx[t,c]
                   + M_clut * k_m[t]) / ||base_m / sigma_m||

with ``a[t]`` the action weight of the snippet (at most 1). Prototypes are
unit vectors in the whitened space and the gain is divided by the whitened
norm of ``base_m``, so every amplitude (``A, E, B, G, Dl, M``) is a distance in
noise standard deviations and the difficulty does not depend on the feature
width. Parameter values: :mod:`data_prep.synthetic_params`.

The whitened signal is

  h_m[t] = (1 - rho_m * k_m[t]) * sum_c ( g_mc * (A_m   * core[t,c]   * P_mc
                                                 + E_m   * onset[t,c]  * O_mc
                                                 + E_m   * offset[t,c] * F_mc)
                                         + B_m * context[t,c] * K_mc )
           + k_m[t] * (G_m * R_m[j(t)] + Dl_m * P_m[d(t)])
           + drift_m[t] + v_m + noise_m[t]

* ``P_mc`` class core prototypes (sparse, non-negative): the discriminative
  middle of an instance. ``O_mc``/``F_mc`` onset/offset prototypes mix a
  little of ``P_mc`` with a prototype shared by the class's *family* (classes
  grouped at random, e.g. all throws share a run-up), so the edges of an
  instance are weaker and barely tell classes of one family apart.
* ``K_mc`` class context: what surrounds the action in a video of class c. In
  RGB it is mostly the class appearance itself (the pool around a dive), so RGB
  alone fires on background near actions; in flow it is a generic, class-free
  motion pattern; in audio a crowd ambience weakly tied to the class.
* ``k_m[t]`` marks clutter stretches, independent per modality: the class
  signal is attenuated by ``rho_m``, a clutter pattern ``R_m[j]`` and, in the
  visual modalities, the core prototype of a distractor class ``d`` (absent
  from the video) appear. Stretches start as a Poisson process with
  geometric lengths, tuned so that the expected cluttered fraction is
  exactly the configured one: RGB 10% (occlusion, cuts; mean 4 snippets),
  flow 20% (camera motion; 6), audio 30% (commentary, music; 12).
* ``g_mc`` class gains: 1 in RGB and flow; in audio 1 for a few "audible"
  classes and small for the rest, so audio is informative for those only.
* ``drift_m`` a slow low-rank random walk, ``v_m`` a per-video offset, and
  ``noise_m`` unit Gaussian noise with MA(1) correlation between neighbours.

Random streams: the world (prototypes, families, audible classes) comes from
``SeedSequence(seed)``; a video's structure (instance strengths, core spans,
context levels, clutter stretches) from ``SeedSequence(seed, spawn_key=(1,
split, index))`` and its feature noise from ``spawn_key=(2, split, index)``,
so the latent structure of a video can be recomputed without its features.
The same seed gives byte-identical features on one platform; another CPU or
BLAS build may differ in the last bits of a few values.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from data_prep import timings as timings_lib
from data_prep.synthetic_params import GenerativeParams

SPLIT_CODES = {"train": 0, "test": 1}

_STRUCTURE_STREAM = 1
_NOISE_STREAM = 2

# Phases of a snippet in VideoLatents.phase_T.
PHASE_BACKGROUND, PHASE_ONSET, PHASE_CORE, PHASE_OFFSET = 0, 1, 2, 3


@dataclasses.dataclass(frozen=True, eq=False)
class ModalityWorld:
  """The fixed prototypes of one modality (whitened space)."""

  base_D: np.ndarray
  sigma_D: np.ndarray
  core_CxD: np.ndarray
  onset_CxD: np.ndarray
  offset_CxD: np.ndarray
  context_CxD: np.ndarray
  clutter_JxD: np.ndarray
  drift_KxD: np.ndarray
  class_gain_C: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class World:
  """Everything shared by the videos of one seed."""

  seed: int
  num_classes: int
  params: GenerativeParams
  family_C: np.ndarray
  modalities: Mapping[str, ModalityWorld]


@dataclasses.dataclass(frozen=True, eq=False)
class VideoLatents:
  """The hidden structure of one video on its snippet grid.

  Attributes:
    core_TxC, onset_TxC, offset_TxC: Per-class weights of each sub-action
      phase (fraction of the snippet covered times instance strength).
    context_TxC: Class context level in [0, 1] (0 for absent classes).
    clutter_T: Modality -> bool mask of its clutter stretches.
    distractor_T: Modality -> class shown by the clutter (-1 outside).
    pattern_T: Modality -> clutter pattern index (-1 outside).
    snippet_class_T: Dominant action class, or C for background.
    phase_T: ``PHASE_*`` of the dominant class (background 0).
  """

  core_TxC: np.ndarray
  onset_TxC: np.ndarray
  offset_TxC: np.ndarray
  context_TxC: np.ndarray
  clutter_T: Mapping[str, np.ndarray]
  distractor_T: Mapping[str, np.ndarray]
  pattern_T: Mapping[str, np.ndarray]
  snippet_class_T: np.ndarray
  phase_T: np.ndarray

  @property
  def video_length(self) -> int:
    return int(self.core_TxC.shape[0])


def _sigmoid(x):
  return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow far from 0


def _unit_rows(x_NxD: np.ndarray) -> np.ndarray:
  return x_NxD / np.linalg.norm(x_NxD, axis=1, keepdims=True)


def _sparse_prototypes(rng, n: int, dim: int, density: float) -> np.ndarray:
  """Unit, non-negative rows with about ``density * dim`` active entries."""
  density = max(density, min(1.0, 3.0 / dim))
  active = rng.random((n, dim)) < density
  active[np.arange(n), rng.integers(0, dim, n)] = True  # never all-zero
  return _unit_rows(rng.gamma(2.0, 1.0, (n, dim)) * active)


def _mix(a_NxD, b_NxD, share_a: float) -> np.ndarray:
  return _unit_rows(share_a * a_NxD + (1.0 - share_a) * b_NxD)


def make_world(seed: int, num_classes: int, modality_dims: Mapping[str, int],
               params: GenerativeParams = GenerativeParams()) -> World:
  """Draws the prototypes, families and audible classes of one seed."""
  rng = np.random.default_rng(np.random.SeedSequence(seed))
  # Class-level structure first, so that families and informative classes
  # depend on the seed only, not on the feature widths.
  family_C = rng.permutation(num_classes) % params.num_families
  class_gains = {}
  for name in sorted(params.modalities):
    mp = params.modalities[name]
    num_informative = max(1, round(mp.informative_classes * num_classes))
    class_gains[name] = np.full(num_classes, mp.uninformative_gain)
    class_gains[name][rng.permutation(num_classes)[:num_informative]] = 1.0
  modalities = {}
  for name, dim in modality_dims.items():
    mp = params.modalities[name]
    base_D = rng.gamma(params.base_shape, params.base_mean / params.base_shape,
                       dim)
    core = _sparse_prototypes(rng, num_classes, dim, mp.density)
    fam_on = _sparse_prototypes(rng, params.num_families, dim, mp.density)
    fam_off = _sparse_prototypes(rng, params.num_families, dim, mp.density)
    scene = _sparse_prototypes(rng, num_classes, dim, mp.density)
    shared_scene = _sparse_prototypes(rng, 1, dim, 2 * mp.density)
    # Class-specific scene parts only matter where context follows the class.
    scene = _mix(scene, np.repeat(shared_scene, num_classes, 0), 0.3)
    modalities[name] = ModalityWorld(
        base_D=base_D,
        sigma_D=params.noise_scale * np.sqrt(base_D),
        core_CxD=core,
        onset_CxD=_mix(core, fam_on[family_C], mp.edge_class_mix),
        offset_CxD=_mix(core, fam_off[family_C], mp.edge_class_mix),
        context_CxD=_mix(core, scene, mp.context_class_mix),
        clutter_JxD=_sparse_prototypes(rng, params.num_clutter_patterns, dim,
                                       2 * mp.density),
        drift_KxD=_unit_rows(rng.standard_normal((params.drift_rank, dim))),
        class_gain_C=class_gains[name],
    )
  return World(seed=seed, num_classes=num_classes, params=params,
               family_C=family_C, modalities=modalities)


def video_rng(seed: int, stream: int, split: str, index: int):
  """The random generator of one stream of one video."""
  return np.random.default_rng(np.random.SeedSequence(
      seed, spawn_key=(stream, SPLIT_CODES[split], index)))


def _phase_weights(timing, video_length, seconds_per_snippet, params, rng):
  """Per-instance core/onset/offset weights on the grid, each (T, N)."""
  n = timing.num_instances
  start_N, end_N = timing.segments_Nx2[:, 0], timing.segments_Nx2[:, 1]
  strength_N = np.exp(params.instance_jitter * rng.standard_normal(n))
  u0_N = rng.uniform(*params.core_start, n)
  u1_N = rng.uniform(*params.core_end, n)
  t0_T = np.arange(video_length) * seconds_per_snippet
  lo_TxN = np.maximum(t0_T[:, None], start_N)
  hi_TxN = np.minimum(t0_T[:, None] + seconds_per_snippet, end_N)
  cover_TxN = np.clip(hi_TxN - lo_TxN, 0.0, None) / seconds_per_snippet
  # Phase at the middle of the covered part, so an instance shorter than a
  # snippet is all core.
  u_TxN = ((lo_TxN + hi_TxN) / 2 - start_N) / (end_N - start_N)
  core_TxN = (_sigmoid((u_TxN - u0_N) / params.core_softness) *
              _sigmoid((u1_N - u_TxN) / params.core_softness))
  weight_TxN = cover_TxN * strength_N
  first_half = u_TxN < (u0_N + u1_N) / 2
  core = weight_TxN * core_TxN
  onset = weight_TxN * (1 - core_TxN) * first_half
  offset = weight_TxN * (1 - core_TxN) * ~first_half
  return core, onset, offset


def _context(timing, video_length, seconds_per_snippet, num_classes, params,
             rng):
  """Class context level (T, C): a floor plus a decay around instances."""
  centre_T = (np.arange(video_length) + 0.5) * seconds_per_snippet
  dist_TxN = np.maximum(
      np.maximum(timing.segments_Nx2[:, 0] - centre_T[:, None],
                 centre_T[:, None] - timing.segments_Nx2[:, 1]), 0.0)
  near_TxN = np.exp(-dist_TxN / params.context_decay_s)
  floor_C = rng.uniform(*params.context_floor, num_classes)
  context_TxC = np.zeros((video_length, num_classes))
  for c in np.unique(timing.labels_N):
    near_T = near_TxN[:, timing.labels_N == c].max(axis=1)
    context_TxC[:, c] = floor_C[c] + (1 - floor_C[c]) * near_T
  return context_TxC


def _clutter(video_length, mp, num_patterns, candidates, rng):
  """Clutter stretches of one modality: mask, pattern and distractor (T,)."""
  mask_T = np.zeros(video_length, bool)
  pattern_T = np.full(video_length, -1, np.int32)
  distractor_T = np.full(video_length, -1, np.int32)
  if mp.clutter_fraction <= 0:
    return mask_T, pattern_T, distractor_T
  # A Poisson boolean model: stretches start at rate lam per snippet (also
  # before t=0, so the first snippets are not spared) with geometric lengths
  # of mean L, so each snippet is cluttered with probability 1-exp(-lam*L);
  # lam is set to make that the configured fraction.
  mean_len = mp.clutter_length
  lam = -np.log1p(-mp.clutter_fraction) / mean_len
  lead = int(np.ceil(4 * mean_len))
  num = rng.poisson(lam * (video_length + lead))
  starts = rng.integers(-lead, video_length, num)
  lengths = rng.geometric(1.0 / mean_len, num)
  patterns = rng.integers(0, num_patterns, num)
  distractors = rng.choice(candidates, num) if num else np.zeros(0, int)
  for s, l, j, d in zip(starts, lengths, patterns, distractors):
    lo, hi = max(s, 0), min(s + l, video_length)
    if hi <= lo:
      continue  # ended before the first snippet
    mask_T[lo:hi] = True
    pattern_T[lo:hi] = j
    distractor_T[lo:hi] = d
  return mask_T, pattern_T, distractor_T


def video_latents(world: World, timing: timings_lib.VideoTiming, split: str,
                  seconds_per_snippet: float) -> VideoLatents:
  """Computes the hidden structure of one video (cheap, no features).

  Args:
    world: The world of the dataset's seed.
    timing: The video's annotation (possibly cropped).
    split: ``train`` or ``test``; names the video's random stream.
    seconds_per_snippet: Snippet length in seconds.

  Returns:
    The video's :class:`VideoLatents`.
  """
  params, num_classes = world.params, world.num_classes
  rng = video_rng(world.seed, _STRUCTURE_STREAM, split, timing.index)
  num_t = timings_lib.video_length(timing.duration, seconds_per_snippet)
  core_TxN, onset_TxN, offset_TxN = _phase_weights(
      timing, num_t, seconds_per_snippet, params, rng)
  onehot_NxC = np.eye(num_classes)[timing.labels_N]
  core_TxC = core_TxN @ onehot_NxC
  onset_TxC = onset_TxN @ onehot_NxC
  offset_TxC = offset_TxN @ onehot_NxC
  context_TxC = _context(timing, num_t, seconds_per_snippet, num_classes,
                         params, rng)
  absent = np.setdiff1d(np.arange(num_classes), timing.labels_N)
  candidates = absent if absent.size else np.arange(num_classes)
  clutter, pattern, distractor = {}, {}, {}
  for name in world.modalities:
    mp = params.modalities[name]
    clutter[name], pattern[name], distractor[name] = _clutter(
        num_t, mp, params.num_clutter_patterns, candidates, rng)
  action_TxC = core_TxC + onset_TxC + offset_TxC
  dominant_T = np.argmax(action_TxC, axis=1)
  is_action_T = action_TxC.max(axis=1) >= params.action_threshold
  rows = np.arange(num_t)
  phases_Tx3 = np.stack([onset_TxC[rows, dominant_T],
                         core_TxC[rows, dominant_T],
                         offset_TxC[rows, dominant_T]], axis=1)
  phase_T = np.where(is_action_T, 1 + np.argmax(phases_Tx3, axis=1),
                     PHASE_BACKGROUND).astype(np.int8)
  return VideoLatents(
      core_TxC=core_TxC, onset_TxC=onset_TxC, offset_TxC=offset_TxC,
      context_TxC=context_TxC, clutter_T=clutter, distractor_T=distractor,
      pattern_T=pattern,
      snippet_class_T=np.where(is_action_T, dominant_T,
                               num_classes).astype(np.int32),
      phase_T=phase_T)


def _smooth_ar1(rng, num_t: int, rank: int, corr: float, std: float):
  """Stationary AR(1) series (T, rank) via an exponential filter."""
  taps = int(np.ceil(np.log(1e-3) / np.log(corr))) if corr > 0 else 1
  kernel = corr ** np.arange(taps)
  white = rng.standard_normal((num_t + taps - 1, rank))
  out = np.stack([np.convolve(white[:, k], kernel, mode="valid")
                  for k in range(rank)], axis=1)
  return out * (std * np.sqrt(1 - corr**2))


def render_modality(world: World, latents: VideoLatents, name: str,
                    rng) -> np.ndarray:
  """Draws the ``(T, D)`` float32 features of one modality of one video."""
  params, mw = world.params, world.modalities[name]
  mp = params.modalities[name]
  num_t, num_c = latents.video_length, world.num_classes
  dim = mw.base_D.shape[0]
  clutter_T = latents.clutter_T[name]
  keep_T = 1.0 - mp.clutter_attenuation * clutter_T
  gain_C = mw.class_gain_C
  onehot_pattern = np.zeros((num_t, mw.clutter_JxD.shape[0]))
  onehot_pattern[clutter_T, latents.pattern_T[name][clutter_T]] = 1.0
  onehot_distractor = np.zeros((num_t, num_c))
  onehot_distractor[clutter_T, latents.distractor_T[name][clutter_T]] = 1.0
  drift_TxK = _smooth_ar1(rng, num_t, params.drift_rank,
                          params.drift_correlation, params.drift_amplitude)
  coef_TxK = np.concatenate([
      keep_T[:, None] * gain_C * mp.core * latents.core_TxC,
      keep_T[:, None] * gain_C * mp.edge * latents.onset_TxC,
      keep_T[:, None] * gain_C * mp.edge * latents.offset_TxC,
      keep_T[:, None] * mp.context * latents.context_TxC,
      mp.clutter_amplitude * onehot_pattern,
      mp.distractor * onehot_distractor,
      drift_TxK,
  ], axis=1).astype(np.float32)
  bank_KxD = np.concatenate([
      mw.core_CxD, mw.onset_CxD, mw.offset_CxD, mw.context_CxD,
      mw.clutter_JxD, mw.core_CxD, mw.drift_KxD], axis=0).astype(np.float32)
  offset_D = rng.standard_normal(dim) * (params.video_offset / np.sqrt(dim))
  white_TxD = rng.standard_normal((num_t + 1, dim), dtype=np.float32)
  phi = params.noise_correlation
  h_TxD = white_TxD[1:]
  h_TxD += phi * white_TxD[:-1]
  h_TxD *= np.float32(1 / np.sqrt(1 + phi**2))
  h_TxD += coef_TxK @ bank_KxD
  h_TxD += offset_D.astype(np.float32)
  action_T = np.minimum(
      (latents.core_TxC + latents.onset_TxC + latents.offset_TxC).sum(1), 1.0)
  # A rise of the base activations by a factor (1 + g) moves a snippet by
  # g * ||base / sigma|| in the whitened space; scale g so that the
  # magnitude_* parameters are whitened norms, like every other amplitude.
  unit = 1.0 / np.linalg.norm(mw.base_D / mw.sigma_D)
  gain_T = 1.0 + unit * (
      mp.magnitude_action * action_T * keep_T
      + mp.magnitude_context * latents.context_TxC.max(1, initial=0.0)
      + mp.magnitude_clutter * clutter_T)
  h_TxD *= mw.sigma_D.astype(np.float32)
  h_TxD += gain_T.astype(np.float32)[:, None] * mw.base_D.astype(np.float32)
  return np.maximum(h_TxD, 0.0, out=h_TxD)


def generate_video(world: World, timing: timings_lib.VideoTiming, split: str,
                   seconds_per_snippet: float
                   ) -> tuple[dict[str, np.ndarray], VideoLatents]:
  """Generates every modality of one video.

  Args:
    world: The world of the dataset's seed.
    timing: The video's annotation (possibly cropped).
    split: ``train`` or ``test``.
    seconds_per_snippet: Snippet length in seconds.

  Returns:
    ``({modality: (T, D) float32}, latents)``.
  """
  latents = video_latents(world, timing, split, seconds_per_snippet)
  rng = video_rng(world.seed, _NOISE_STREAM, split, timing.index)
  feats = {name: render_modality(world, latents, name, rng)
           for name in world.modalities}
  return feats, latents
