"""Forward FLOPs of a model from XLA's cost analysis (LGCA Tables 1-2).

The fusion and the head are lowered and compiled separately, on abstract
inputs of one video of ``T`` snippets, and XLA's ``cost_analysis()`` counts
their floating-point operations. Nothing is initialised or run, so the count
of a full-width model is cheap. The numbers are those of the compiled program
on the current backend (elementwise ops count one FLOP per element,
transcendentals such as ``exp`` are reported separately), not an analytical
formula, so fused or simplified ops are counted as XLA executes them.

Cross-attention correlates every pair of snippets, so fusion cost grows with
``T^2`` and the cost *per snippet* depends on ``T``; the report states the
``T`` it was measured at.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import jax
import jax.numpy as jnp

from wtal_jax.data import pipeline
from wtal_jax.models.model import RNG_STREAMS, build_model

PARTS = ("fusion", "head", "total")


@dataclasses.dataclass(frozen=True)
class FlopsReport:
  """Forward cost of one video.

  Attributes:
    video_length: The video length ``T`` the cost was measured at.
    per_video: FLOPs of one forward pass, by part (``fusion``, ``head``,
      ``total``; ``total`` is the whole model compiled as one program).
    transcendentals: Transcendental ops (exp, log, tanh, ...) by part.
  """

  video_length: int
  per_video: Mapping[str, float]
  transcendentals: Mapping[str, float]

  @property
  def per_snippet(self) -> dict[str, float]:
    return {k: v / self.video_length for k, v in self.per_video.items()}

  def to_dict(self) -> dict:
    return {"video_length": self.video_length,
            "per_video": dict(self.per_video),
            "per_snippet": self.per_snippet,
            "transcendentals": dict(self.transcendentals)}


def _cost(fn, *args) -> tuple[float, float]:
  analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
  if isinstance(analysis, Sequence):  # Older JAX: one dict per program.
    analysis = analysis[0] if analysis else {}
  if not analysis or "flops" not in analysis:
    raise RuntimeError(
        f"XLA's cost analysis on backend {jax.default_backend()!r} reports no "
        "'flops'; count FLOPs on the CPU backend (JAX_PLATFORMS=cpu).")
  return float(analysis["flops"]), float(analysis.get("transcendentals", 0.0))


def _sub_variables(variables, name: str) -> dict:
  return {col: tree[name] for col, tree in variables.items() if name in tree}


def model_flops(model, input_dims: Sequence[int], video_length: int
                ) -> FlopsReport:
  """FLOPs of ``model`` (a ``WTALModel``) on one video of ``video_length``.

  Args:
    model: The composed model (its ``fusion`` and ``head`` are measured
      separately and together).
    input_dims: Feature width of each modality group.
    video_length: Video length ``T``.
  """
  if video_length < 1:
    raise ValueError(f"video_length must be >= 1, got {video_length}.")
  xs = tuple(jax.ShapeDtypeStruct((1, video_length, d), jnp.float32)
             for d in input_dims)
  mask = jax.ShapeDtypeStruct((1, video_length), jnp.bool_)

  def init(key, xs, mask):
    keys = jax.random.split(key, 1 + len(RNG_STREAMS))
    return model.init({"params": keys[0], **dict(zip(RNG_STREAMS, keys[1:]))},
                      xs, mask, train=False)

  variables = jax.eval_shape(init, jax.random.PRNGKey(0), xs, mask)
  variables = {k: v for k, v in variables.items() if k != "intermediates"}

  def fusion_fn(v, xs, mask):
    return model.fusion.apply(_sub_variables(v, "fusion"), xs, mask,
                              train=False)

  def head_fn(v, fused, mask):
    return model.head.apply(_sub_variables(v, "head"), fused, mask,
                            train=False)

  def total_fn(v, xs, mask):
    return model.apply(v, xs, mask, train=False)

  fused = jax.eval_shape(fusion_fn, variables, xs, mask)
  costs = {"fusion": _cost(fusion_fn, variables, xs, mask),
           "head": _cost(head_fn, variables, fused, mask),
           "total": _cost(total_fn, variables, xs, mask)}
  return FlopsReport(video_length, {k: c[0] for k, c in costs.items()},
                     {k: c[1] for k, c in costs.items()})


def flops(config, *, video_length: int | None = None,
          input_dims: Sequence[int] | None = None,
          num_classes: int | None = None) -> FlopsReport:
  """Forward FLOPs per video and per snippet of the model a config names.

  Args:
    config: An experiment config (``config.model`` and ``config.data``).
    video_length: Video length ``T`` (default ``config.data.num_snippets``,
      the training length).
    input_dims: Width of each modality group; default: read from the
      dataset's metadata (opening it, and building a generated one on first
      use).
    num_classes: Number of action classes; default: from the dataset.

  Returns:
    A :class:`FlopsReport` split into fusion, head and total.
  """
  if input_dims is None or num_classes is None:
    from data_prep.prepared import open_dataset  # pylint: disable=g-import-not-at-top
    meta = open_dataset(config.data).meta
    if input_dims is None:
      input_dims = pipeline.group_dims(
          pipeline.parse_modalities(config.data.modalities),
          meta.modality_dims)
    if num_classes is None:
      num_classes = meta.num_classes
  model = build_model(config.model, num_classes)
  return model_flops(model, tuple(input_dims),
                     int(video_length or config.data.num_snippets))


def cost_table(reports: Mapping[str, FlopsReport]) -> str:
  """A Markdown table of MFLOPs per snippet (fusion, head, total) and GFLOPs
  per video, one line per named model, in the spirit of LGCA Tables 1-2."""
  lines = ["| Model | T | fusion MFLOPs/snippet | head MFLOPs/snippet | "
           "total MFLOPs/snippet | total GFLOPs/video |",
           "|---|---:|---:|---:|---:|---:|"]
  for name, r in reports.items():
    s = r.per_snippet
    lines.append(f"| {name} | {r.video_length} | {s['fusion'] / 1e6:.2f} | "
                 f"{s['head'] / 1e6:.2f} | {s['total'] / 1e6:.2f} | "
                 f"{r.per_video['total'] / 1e9:.3f} |")
  return "\n".join(lines)
