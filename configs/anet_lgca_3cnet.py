"""LGCA (one stage, leaky gates) in 3C-Net on ActivityNet1.2 RGB and flow.

Reproduces: LGCA paper Table 4 (also Table 10), row "Ours (on 3C-Net)":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 21.5. LGCA replaces 3C-Net's second
modality-specific FC (see configs/thumos_lgca_3cnet.py); ActivityNet settings
as in configs/anet_3cnet.py.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import threec


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "lgca"
  c.model.fusion.embed_dim = 1024
  c.model.fusion.num_stages = 1
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1
  c.model.fusion.negative_slope = 0.0
  c.model.head = threec.default_config()
  c.model.head.num_fc = 0
  c.model.head.temporal_conv = True
  c.model.head.loss_weights.count = 0.1
  c.data.num_snippets = 200
  c.data.snippet_sampling = "random_crop"
  c.data.num_pairs = 0
  c.train.lr = 1e-4
  c.train.weight_decay = 5e-4
  c.train.batch_size = 32
  c.train.num_steps = 50000
  if not variant:
    c.eval.tious = config_lib.ANET_TIOUS
  return config_lib.apply_variant(c, variant, real_name="activitynet12",
                                  real_builder_config="wtalc")
