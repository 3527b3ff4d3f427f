"""3C-Net on ActivityNet1.2 RGB + flow, with its own (late) fusion.

Reproduces: LGCA paper Table 4 (also Table 10), row "3C-Net [22]":
ActivityNet1.2 avg mAP@[0.5:0.05:0.95] = 21.6. ActivityNet settings of
3C-Net's public code: random 200-snippet crops, counting loss x 0.1, and a
depthwise temporal Conv (kernel 13, dilation 2) + ReLU on the T-CAM.

The ``:synthetic`` and ``:smoke`` variants run the same recipe on the
THUMOS-shaped generated data and score it at THUMOS tIoUs.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import threec


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "concat"
  c.model.fusion.embed_dim = 0
  c.model.head = threec.default_config()
  c.model.head.num_fc = 2
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
  c = config_lib.apply_variant(c, variant, real_name="activitynet12",
                               real_builder_config="wtalc")
  if variant == "smoke":
    c.model.head.hidden_dim = 16
  return c
