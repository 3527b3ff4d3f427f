"""Gate selection rates (LGCA Table 6) from the sown gate probabilities.

The selection rate ζ of a path is the fraction of real snippets on which that
path has the largest gate probability. Every gate sows its ``(B, T, P)``
probabilities into the ``intermediates`` collection (see
:mod:`wtal_jax.models.fusion.gates`); this module runs the model functionally
with that collection mutable, counts argmax wins over the real snippets and
averages the probabilities, per gate, path and modality.

Gates run in evaluation mode, so a hard gate is its argmax and dropout is off.
Ties (equal probabilities) go to the lowest path index, as ``argmax`` does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Mapping, Sequence

import jax
import numpy as np

from wtal_jax.models.fusion.lgca import GATE_PATHS
from wtal_jax.training.steps import gate_statistics

# Row titles of LGCA Table 6, by gate.
GATE_TITLES = {"skip1": "Skip-conn. stage-1", "skip2": "Skip-conn. stage-2",
               "stage": "Stage"}

_GATE_NAME = re.compile(r"^(?P<gate>.+)_gate_(?P<m>\d+)$")

# Gate statistics: ``{gate module name: (wins_P, prob_sum_P, count)}``.
GateStats = Mapping[str, tuple[Any, Any, Any]]


def parse_gate_name(name: str) -> tuple[str, int]:
  """``"skip2_gate_1" -> ("skip2", 1)``; other names are their own gate of
  modality 0."""
  match = _GATE_NAME.match(name)
  if match is None:
    return name, 0
  return match["gate"], int(match["m"])


def path_labels(gate: str, num_paths: int) -> tuple[str, ...]:
  """LGCA Table 6 labels of a gate's paths (``path i`` for unknown gates)."""
  labels = GATE_PATHS.get(gate)
  if labels is None or len(labels) != num_paths:
    return tuple(f"path {i}" for i in range(num_paths))
  return tuple(labels)


def default_modality_names(num: int) -> tuple[str, ...]:
  """The paper's ``M``, ``N`` for two modalities, ``m<i>`` otherwise."""
  return ("M", "N") if num == 2 else tuple(f"m{i}" for i in range(num))


@dataclasses.dataclass(frozen=True)
class SelectionRow:
  """One path of one gate of one modality."""

  gate: str
  modality: str
  path: str
  path_index: int
  rate: float
  mean_prob: float
  snippet_count: int


@dataclasses.dataclass(frozen=True)
class SelectionRates:
  """A tidy table of selection rates; renders as Markdown (also in Jupyter).

  Attributes:
    rows: One row per (gate, modality, path), gates in LGCA order.
  """

  rows: tuple[SelectionRow, ...]

  @property
  def gates(self) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.gate for r in self.rows))

  @property
  def modalities(self) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.modality for r in self.rows))

  def paths(self, gate: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.path for r in self.rows if r.gate == gate))

  def row(self, gate: str, path: str, modality: str) -> SelectionRow:
    for r in self.rows:
      if (r.gate, r.path, r.modality) == (gate, path, modality):
        return r
    raise KeyError(f"No selection rate for gate {gate!r}, path {path!r}, "
                   f"modality {modality!r}; gates {self.gates}, modalities "
                   f"{self.modalities}.")

  def rate(self, gate: str, path: str, modality: str) -> float:
    return self.row(gate, path, modality).rate

  def to_dict(self) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``{modality: {gate: {path: {"rate", "mean_prob", "snippet_count"}}}}``."""
    out: dict = {}
    for r in self.rows:
      out.setdefault(r.modality, {}).setdefault(r.gate, {})[r.path] = {
          "rate": r.rate, "mean_prob": r.mean_prob,
          "snippet_count": r.snippet_count}
    return out

  def to_markdown(self) -> str:
    """LGCA Table 6 layout: ``ζ`` and the mean gate probability per
    modality, one line per gate path."""
    mods = self.modalities
    head = (["Gate", "Path"] + [f"ζ ({m})" for m in mods]
            + [f"mean p ({m})" for m in mods])
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * 2 + "---:|" * (2 * len(mods))]
    for gate in self.gates:
      for i, path in enumerate(self.paths(gate)):
        cells = [GATE_TITLES.get(gate, gate) if i == 0 else "", path]
        rows = [self.row(gate, path, m) for m in mods]
        cells += [f"{100 * r.rate:.1f}%" for r in rows]
        cells += [f"{r.mean_prob:.3f}" for r in rows]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

  def _repr_markdown_(self) -> str:
    return self.to_markdown()

  def __str__(self) -> str:
    return self.to_markdown()


def table_from_stats(stats: GateStats,
                     modality_names: Sequence[str] | None = None
                     ) -> SelectionRates:
  """Turns summed gate statistics into a :class:`SelectionRates` table.

  Args:
    stats: ``{gate module name: (wins_P, prob_sum_P, count)}`` summed over
      real snippets (the format of :func:`steps.gate_statistics`).
    modality_names: Names of the fused modality groups, in input order.

  Raises:
    ValueError: If a gate saw no real snippet.
  """
  parsed = {name: parse_gate_name(name) for name in stats}
  num_mods = 1 + max((m for _, m in parsed.values()), default=-1)
  names = tuple(modality_names or default_modality_names(num_mods))
  if len(names) < num_mods:
    raise ValueError(f"Gates exist for {num_mods} modalities but only "
                     f"{len(names)} modality names were given: {names}.")
  order = {g: i for i, g in enumerate(GATE_PATHS)}
  rows = []
  for name in sorted(stats, key=lambda n: (order.get(parsed[n][0], len(order)),
                                           parsed[n][0], parsed[n][1])):
    gate, m = parsed[name]
    wins, probs, count = (np.asarray(a, np.float64) for a in stats[name])
    if count <= 0:
      raise ValueError(f"Gate {name!r} saw no real snippet; the batches' "
                       "'mask' fields are all False.")
    for p, label in enumerate(path_labels(gate, wins.shape[-1])):
      rows.append(SelectionRow(gate, names[m], label, p,
                               float(wins[p] / count), float(probs[p] / count),
                               int(count)))
  return SelectionRates(tuple(rows))


def _as_variables(params) -> dict:
  if isinstance(params, Mapping) and "params" in params:
    return dict(params)
  return {"params": params}


def selection_rates(model, params, batch_iter: Iterable[Mapping[str, Any]],
                    modality_names: Sequence[str] | None = None
                    ) -> SelectionRates:
  """Selection rate and mean probability of every gate path (LGCA Table 6).

  Args:
    model: A :class:`~wtal_jax.models.model.WTALModel` (or any module called
      as ``model(inputs, mask, train=False)`` whose gates sow ``probs``).
    params: The trainable parameters, or the full variables dict (with
      ``params`` and e.g. a ``frozen`` collection).
    batch_iter: Batches with ``inputs`` (one ``(B, T, D)`` array per modality
      group) and ``mask`` (``(B, T)`` bool, True on real snippets), e.g. from
      :func:`wtal_jax.analysis.run.eval_batches`.
    modality_names: Names of the modality groups (default ``M``, ``N``).

  Returns:
    The table; empty when the model has no gates.

  Raises:
    ValueError: If no batch holds a real snippet.
  """
  variables = _as_variables(params)

  @jax.jit
  def batch_stats(variables, inputs, mask_BxT):
    _, state = model.apply(variables, tuple(inputs), mask_BxT, train=False,
                           mutable=["intermediates"])
    return gate_statistics(state.get("intermediates", {}), mask_BxT)

  totals: dict[str, list[np.ndarray]] = {}
  num_real = 0
  for batch in batch_iter:
    mask = np.asarray(batch["mask"], bool)
    num_real += int(mask.sum())
    stats = jax.device_get(batch_stats(variables, tuple(batch["inputs"]), mask))
    for name, parts in stats.items():
      parts = [np.asarray(a, np.float64) for a in parts]
      if name in totals:
        totals[name] = [t + a for t, a in zip(totals[name], parts)]
      else:
        totals[name] = parts
  if num_real == 0:
    raise ValueError("selection_rates got no real snippet: batch_iter was "
                     "empty or every 'mask' was False.")
  return table_from_stats(totals, modality_names)


def stats_from_probs(gate_probs: Iterable[Mapping[str, np.ndarray]]
                     ) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
  """Gate statistics from unpadded per-video probabilities, e.g.
  ``VideoOutput.gate_probs`` (``{gate name: (T, P)}``)."""
  totals: dict[str, list] = {}
  for probs in gate_probs:
    for name, p_TxP in probs.items():
      p_TxP = np.asarray(p_TxP, np.float64)
      wins = np.bincount(p_TxP.argmax(-1), minlength=p_TxP.shape[-1])
      parts = [wins.astype(np.float64), p_TxP.sum(0), float(p_TxP.shape[0])]
      totals[name] = ([t + a for t, a in zip(totals[name], parts)]
                      if name in totals else parts)
  return {k: tuple(v) for k, v in totals.items()}
