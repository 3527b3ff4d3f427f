"""CAAV (two-stage dense cross-attention + open-max head) on ActivityNet1.2
RGB and flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "CAAV [13]":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.0. The published number fuses
audio and visual features; the W-TALC ActivityNet1.2 release has no audio, so
this recipe fuses RGB and flow unless ``config.data.modalities`` names an
audio modality of a dataset that has one.
"""

from wtal_jax import config_lib


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "cross_attention"
  c.model.fusion.num_stages = 2
  c.model.fusion.skip = "dense"
  config_lib.caav_recipe(c)
  if not variant:
    c.eval.tious = config_lib.ANET_TIOUS
  return config_lib.apply_variant(c, variant, real_name="activitynet12",
                                  real_builder_config="wtalc")
