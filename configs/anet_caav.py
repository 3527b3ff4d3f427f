"""CAAV (two-stage dense cross-attention + open-max head) on ActivityNet1.2
RGB and flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "CAAV [13]":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.0. The published number fuses
audio and visual features; the W-TALC ActivityNet1.2 release has no audio, so
this recipe fuses RGB and flow unless ``config.data.modalities`` names an
audio modality of a dataset that has one.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav


def get_config(variant: str = ""):
  return config_lib.compose(caav, dataset="activitynet12", variant=variant)
