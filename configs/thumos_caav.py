"""CAAV: two-stage cross-attention with dense skip connections (CAAV's own
fusion) + CAAV's open-max head, on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 1 "two-stage baseline" and Table 3 row
"CAAV [13]": THUMOS14 avg mAP@[0.1:0.1:0.7] = 35.6 (61.6 / 57.2 / 45.7 /
36.3 / 26.2 / 15.6 / 6.4). The published number fuses audio and visual
features; for that set ``config.data.modalities = ("rgb+flow", "audio")`` on
a dataset with audio (the synthetic one has it). The default here fuses RGB
and flow, like configs/thumos_lgca_caav.py, so the two are comparable.
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav


def get_config(variant: str = ""):
  return config_lib.compose(caav, dataset="thumos14", variant=variant)
