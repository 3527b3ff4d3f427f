"""Leaky gated cross-attention (LGCA §3.2, Eq. 7-11).

For each modality M (N is symmetric), with ``X`` the stage-0 embedding:

* Stage 1: ``U1 = g1(X~^(1))`` over two paths and
  ``Z^(1) = ReLU(U1[0] X + U1[1] X~^(1))``.
* Stage 2 cross-attends ``Z_M^(1)`` and ``Z_N^(1)`` (the gated stage-1 output
  plays the role of ``X_att^(1)`` in Eq. 8; ``stage1_feature="cross_attended"``
  uses CAAV's ``tanh(X + X~^(1))`` there instead); ``U2 = g2(X~^(2))`` weights three
  paths: ``Z^(2) = ReLU(U2[0](X + Z^(1) + X~^(2)) + U2[1](X + X~^(2)) +
  U2[2](Z^(1) + X~^(2)))``.
* Stage gate: ``Us = gs(X~^(2))``, ``Z = Us[0] Z^(1) + Us[1] Z^(2)``.

The output is ``[Z_M; Z_N]``; with one stage it is ``[Z_M^(1); Z_N^(1)]``.

In front of a head whose own fusion is a cross-modal module, LGCA goes on
top of it, as the paper adds its gates on top of CAAV's cross-attention
(§4.2): ``recalibration="ccm"`` feeds LGCA CO2-Net's consensus module's
recalibrated streams, and LGCA's output replaces their concatenation.

Ablations (LGCA Table 8) switch gate groups off. A stage without its skip
gate falls back to the ungated CAAV feature, ``tanh(X + X~^(1))`` and
``tanh(X + X_att^(1) + X~^(2))`` (Eq. 4); without the stage gate the output is
the last stage. ``gate="none"`` turns every gate off, which is the two-stage
dense cross-attention baseline.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from wtal_jax import ops
from wtal_jax.models.fusion import base, ccm
from wtal_jax.models.fusion.cross_attention import CrossAttentionStage
from wtal_jax.models.fusion.gates import GATE_KINDS, Gate, weighted_sum

# The choices of LGCA's string options, the paper's first (see the class).
OPTION_CHOICES = {
    # Activation of the attended features X~ before they are gated.
    "attended_activation": ("none", "tanh"),
    # What stands for X_att(1) in Eq. 8 and feeds the stage-2 attention.
    "stage1_feature": ("gated", "cross_attended"),
    # Activation of the gated stage outputs Z(1), Z(2) (Eq. 7 and 9).
    "gated_activation": ("relu", "tanh"),
    # A head's own cross-modal module applied to the streams before LGCA.
    "recalibration": ("none", "ccm"),
}

# Path labels per gate, in gate-output order (LGCA Table 6 notation).
GATE_PATHS = {
    "skip1": ("X", "X̃(1)"),
    "skip2": ("X + X_att(1) + X̃(2)", "X + X̃(2)", "X_att(1) + X̃(2)"),
    "stage": ("Z(1)", "Z(2)"),
}


def gate_module_name(gate: str, modality_index: int) -> str:
  """The stable module name under which a gate sows its ``probs``."""
  return f"{gate}_gate_{modality_index}"


@base.FUSIONS.register("lgca")
class LeakyGatedCrossAttention(nn.Module):
  """LGCA fusion of two modalities.

  Attributes:
    embed_dim: Stage-0 embedding width (0: cross-attend the raw features).
      Which heads get one is LGCA's recipe (``wtal_jax/recipes/lgca.py``):
      CAAV (audio and visual must reach a common width) and 3C-Net (the
      embedding is its own first modality-specific FC); the other heads read
      the raw streams, as the paper adds LGCA before the head.
    num_stages: 1 or 2.
    gate: ``leaky``, ``soft``, ``hard`` or ``none``.
    temperature: Leaky-gate softmax temperature (0.1 in the paper).
    skip_gates: Use the skip-connection gates.
    stage_gate: Use the stage gate (two stages only).
    negative_slope: LeakyReLU slope of the embedding.
    gate_prior: Initial probability of each skip gate's first path, the one
      that keeps the unattended features (``X``; ``X + X_att(1) + X~(2)`` at
      stage 2), so that LGCA starts as its baseline (see ``gates.py``);
      0 gives Xavier-initialised gates. The stage gate is not biased: both of
      its paths keep ``X``.
    gate_centred_input: The skip gates read each snippet's attended feature
      minus its video's mean over time, so that they decide per snippet
      rather than per video (an option; the paper's gates read the attended
      features as they are; docs/method_notes.md).
    gate_fixed_bias: Every gate keeps its bias at its start (the prior for
      the skip gates, zero for the stage gate); only its weights are
      trained. With ``gate_centred_input`` a skip gate can then move single
      snippets away from its prior but never switch a whole video (an
      option; docs/method_notes.md).
    attended_activation: ``none`` gates the attended features ``X~`` as the
      cross-attention returns them (Eq. 7-11 as written); ``tanh`` activates
      them first, everywhere they are used (paths and gate inputs), the
      reading of LGCA §4.2's "the cross attended features are activated by
      tanh as in [CAAV]" (an option; docs/method_notes.md).
    stage1_feature: what plays ``X_att(1)`` in Eq. 8 and is cross-attended
      at stage 2: ``gated``, the gated stage-1 output ``Z(1)`` (the
      default), or ``cross_attended``, CAAV's ``tanh(X + X~(1))`` (Eq. 4),
      with which Eq. 8's first path is exactly the argument of CAAV's
      stage-2 ``tanh`` ("same as multi-stage cross-attention, ignoring the
      use of ReLU"); ``Z(1)`` then only reaches the output through the stage
      gate (an option; docs/method_notes.md).
    gated_activation: activation of the gated stage outputs ``Z(1)`` and
      ``Z(2)``: ``relu`` as in Eq. 7 and 9, or ``tanh``, CAAV's activation of
      its stage outputs (Eq. 4), so that a head tuned on CAAV's bounded
      features reads features of the same range (an option, off the paper;
      behind CAAV's open-max head the ReLU output makes mu collapse,
      docs/method_notes.md).
    recalibration: ``none``, or ``ccm``: CO2-Net's cross-modal consensus
      module (both directions, its ``ccm_*`` settings) recalibrates the
      (embedded) streams, and LGCA cross-attends and gates its outputs.
      LGCA's recipe sets it in front of CO2-Net, whose own fusion CCM is
      (``wtal_jax/recipes/lgca.py``).
    ccm_kernel_size: Temporal kernel of CCM's local projection.
    ccm_negative_slope: LeakyReLU slope inside CCM.
    ccm_dropout: Dropout inside CCM.
    ccm_weight_init: Initialisation inside CCM.
  """

  embed_dim: int = 1024
  num_stages: int = 2
  gate: str = "leaky"
  temperature: float = 0.1
  skip_gates: bool = True
  stage_gate: bool = True
  negative_slope: float = 0.01
  gate_prior: float = 0.0
  gate_centred_input: bool = False
  gate_fixed_bias: bool = False
  attended_activation: str = "none"
  stage1_feature: str = "gated"
  gated_activation: str = "relu"
  recalibration: str = "none"
  ccm_kernel_size: int = 3
  ccm_negative_slope: float = 0.2
  ccm_dropout: float = 0.5
  ccm_weight_init: str = "xavier"

  @classmethod
  def from_config(cls, cfg) -> "LeakyGatedCrossAttention":
    return cls(embed_dim=cfg.embed_dim, num_stages=cfg.num_stages,
               gate=cfg.get("gate", "leaky"),
               temperature=cfg.get("temperature", 0.1),
               skip_gates=cfg.get("skip_gates", True),
               stage_gate=cfg.get("stage_gate", True),
               negative_slope=cfg.get("negative_slope", 0.01),
               gate_prior=cfg.get("gate_prior", 0.0),
               gate_centred_input=cfg.get("gate_centred_input", False),
               gate_fixed_bias=cfg.get("gate_fixed_bias", False),
               **{k: cfg.get(k, v[0]) for k, v in OPTION_CHOICES.items()},
               **{f"ccm_{k}": v
                  for k, v in ccm.options_from_config(cfg).items()})

  def _gate(self, which: str, m: int, num_paths: int, x_tilde, mask_BxT,
            train):
    skip = which.startswith("skip")
    if skip and self.gate_centred_input:
      x_tilde = x_tilde - ops.masked_mean_over_time(x_tilde, mask_BxT)[:, None]
    return Gate(num_paths, self.gate, self.temperature,
                self.gate_prior if skip else 0.0, self.gate_fixed_bias,
                name=gate_module_name(which, m))(x_tilde, train=train)

  @nn.compact
  def __call__(self, xs, mask_BxT: jax.Array, *, train: bool
               ) -> base.FusionOutput:
    if self.gate not in GATE_KINDS:
      raise ValueError(f"gate must be one of {GATE_KINDS}, got {self.gate!r}.")
    if self.num_stages not in (1, 2):
      raise ValueError(f"LGCA supports 1 or 2 stages, got {self.num_stages}.")
    for name, choices in OPTION_CHOICES.items():
      if getattr(self, name) not in choices:
        raise ValueError(f"{name} must be one of {choices}, got "
                         f"{getattr(self, name)!r}.")
    out_act = jnp.tanh if self.gated_activation == "tanh" else nn.relu
    activate = jnp.tanh if self.attended_activation == "tanh" else (
        lambda t: t)
    gated = self.gate != "none"
    use_skip = gated and self.skip_gates
    use_stage = gated and self.stage_gate and self.num_stages == 2
    x = base.embed_all(xs, self.embed_dim, self.negative_slope, mask_BxT)
    if self.recalibration == "ccm":
      x = list(ccm.recalibrate_both(
          x[0], x[1], mask_BxT, train=train,
          kernel_size=self.ccm_kernel_size,
          negative_slope=self.ccm_negative_slope, dropout=self.ccm_dropout,
          weight_init=self.ccm_weight_init))

    tilde1 = [activate(t) for t in
              CrossAttentionStage(name="stage1")(x[0], x[1], mask_BxT)]
    z1 = []
    for m in range(2):
      if use_skip:
        u1 = self._gate("skip1", m, 2, tilde1[m], mask_BxT, train)
        z1.append(out_act(weighted_sum([x[m], tilde1[m]], u1)))
      else:
        z1.append(jnp.tanh(x[m] + tilde1[m]))
    if self.num_stages == 1:
      return base.fuse(z1)

    # Without skip gates Z(1) already is CAAV's tanh(X + X~(1)).
    if self.stage1_feature == "cross_attended" and use_skip:
      att1 = [jnp.tanh(x[m] + tilde1[m]) for m in range(2)]
    else:
      att1 = z1
    tilde2 = [activate(t) for t in
              CrossAttentionStage(name="stage2")(att1[0], att1[1], mask_BxT)]
    out = []
    for m in range(2):
      if use_skip:
        u2 = self._gate("skip2", m, 3, tilde2[m], mask_BxT, train)
        z2 = out_act(weighted_sum(
            [x[m] + att1[m] + tilde2[m], x[m] + tilde2[m],
             att1[m] + tilde2[m]], u2))
      else:
        z2 = jnp.tanh(x[m] + att1[m] + tilde2[m])
      if use_stage:
        us = self._gate("stage", m, 2, tilde2[m], mask_BxT, train)
        out.append(weighted_sum([z1[m], z2], us))
      else:
        out.append(z2)
    return base.fuse(out)
