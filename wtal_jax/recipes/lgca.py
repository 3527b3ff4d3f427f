"""LGCA's recipe (Lee, Yun, Jain: "Leaky Gated Cross-Attention for Weakly
Supervised Multi-Modal Temporal Action Localization", §3.2 and §4.2): where
the fusion sits in front of each head and how its gates start.

* LGCA goes "before the localization head" (§4), on the streams the head
  reads: the raw streams of UM, ASL, HAM-Net and CO2-Net, with no stage-0
  embedding. Only where the head's own first layer is a per-modality
  embedding is there one in front: CAAV (audio and visual must reach a common
  ``d_x``) and 3C-Net, whose first modality-specific FC is the embedding and
  whose second LGCA replaces (§4.2), so the head keeps no FC of its own.
* Where the head's own fusion is a cross-modal module, LGCA goes on top of
  it, as the paper adds its gates on top of CAAV's cross-attention (§4.2):
  in front of CO2-Net, LGCA cross-attends and gates the streams of its
  consensus module (CCM), and its output replaces their concatenation, as
  it replaces the concatenation of the raw streams in front of UM, ASL and
  HAM-Net. So LGCA adds to each head's fusion and removes none of it.
* One stage for RGB-flow heads, two for audio-visual CAAV (§4.3).
* Leaky gates at temperature 0.1 (§3.2).
* The skip gates start on the unattended path (``gate_prior = 0.95``, a
  highway-style prior), so that LGCA starts as its baseline and learns to
  leave it: the inputs are non-negative (raw I3D features are post-ReLU, and
  an embedding ends in a (Leaky)ReLU), so ``ReLU(X) = X`` on that path. This
  is the pattern of LGCA Table 6, where the RGB-flow gates keep ``X``.
  ``gate_prior = 0`` gives Xavier gates (docs/method_notes.md).
"""

from __future__ import annotations

import ml_collections

from wtal_jax.recipes import co2net

# Width of the stage-0 embedding in front of each head (absent: none, LGCA
# attends the head's raw input streams).
STAGE0_WIDTH = {"caav": 1024, "threec": 1024}


def apply(c: ml_collections.ConfigDict, num_stages: int) -> None:
  """Puts leaky LGCA with ``num_stages`` stages in front of the config's
  head (set the head first: where LGCA sits follows from it)."""
  head = c.model.head.kind
  c.model.fusion.kind = "lgca"
  c.model.fusion.embed_dim = STAGE0_WIDTH.get(head, 0)
  if head == "threec":
    # The embedding is 3C-Net's first FC (+ ReLU) and LGCA its second.
    c.model.head.num_fc = 0
    c.model.fusion.negative_slope = 0.0
  if head == "co2net":
    c.model.fusion.recalibration = "ccm"
    co2net.ccm_settings(c)
  c.model.fusion.gate_prior = 0.95
  c.model.fusion.num_stages = num_stages
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1


def one_stage(c: ml_collections.ConfigDict) -> None:
  """LGCA for RGB-flow heads (UM, ASL, 3C-Net in LGCA Table 3)."""
  apply(c, num_stages=1)


def two_stages(c: ml_collections.ConfigDict) -> None:
  """LGCA for audio-visual CAAV (LGCA Tables 1 and 3)."""
  apply(c, num_stages=2)
