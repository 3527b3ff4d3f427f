"""LGCA (2 stages, leaky gates) + CAAV open-max head on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 1 "two-stage baseline + leaky gate" and Table 3
row "Ours (on CAAV)": THUMOS14 avg mAP@[0.1:0.1:0.7] = 37.5 (63.1 / 58.3 /
48.4 / 38.4 / 30.1 / 17.1 / 7.1), a two-stage leaky gated cross-attention with
CAAV's head, losses and optimizer. The published number fuses audio and
visual features; here RGB and flow (set ``config.data.modalities =
("rgb+flow", "audio")`` for the audio-visual recipe).
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav, lgca


def get_config(variant: str = ""):
  return config_lib.compose(
      caav, dataset="thumos14", fusion=lgca.two_stages, variant=variant)
