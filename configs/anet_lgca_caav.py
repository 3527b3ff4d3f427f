"""LGCA (2 stages, leaky gates) + CAAV open-max head on ActivityNet1.2 RGB and
flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "Ours (on CAAV)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.6 (audio-visual in the paper; see
configs/anet_caav.py for the modalities).
"""

from wtal_jax import config_lib


def get_config(variant: str = ""):
  c = config_lib.base_config()
  config_lib.caav_recipe(c)
  config_lib.lgca_fusion(c, num_stages=2)
  if not variant:
    c.eval.tious = config_lib.ANET_TIOUS
  return config_lib.apply_variant(c, variant, real_name="activitynet12",
                                  real_builder_config="wtalc")
