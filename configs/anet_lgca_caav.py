"""LGCA (2 stages, leaky gates) + CAAV open-max head on ActivityNet1.2 RGB and
flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "Ours (on CAAV)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.6 (audio-visual in the paper; see
configs/anet_caav.py for the modalities).
"""

from wtal_jax import config_lib
from wtal_jax.recipes import caav, lgca


def get_config(variant: str = ""):
  return config_lib.compose(
      caav, dataset="activitynet12", fusion=lgca.two_stages, variant=variant)
