"""LGCA (2 stages, leaky gates) + CAAV open-max head on ActivityNet1.2 RGB and
flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "Ours (on CAAV)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 26.6 (audio-visual in the paper; see
configs/anet_caav.py for the modalities).
"""

from wtal_jax import config_lib


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "lgca"
  c.model.fusion.num_stages = 2
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1
  c.model.head = config_lib.caav_head()
  c.train.lr = 1e-4
  c.train.batch_size = 30
  if not variant:
    c.eval.tious = config_lib.ANET_TIOUS
  return config_lib.apply_variant(c, variant, real_name="activitynet12",
                                  real_builder_config="wtalc")
