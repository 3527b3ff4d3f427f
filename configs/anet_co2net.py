"""CO2-Net on ActivityNet1.2 I3D RGB and flow with the ``ccm`` fusion.

Reproduces: CO2-Net (Hong et al., ACM MM 2021), Table 2, "CO2-Net":
ActivityNet1.2 average mAP@0.5:0.05:0.95 = 26.4 (mAP@0.5 = 43.3,
mAP@0.75 = 26.3).

Recipe (public ``run.sh``, ``ANT_CO2``): 60 snippets, k = T // 5, CAS and
attentions average-pooled with kernel 13 (``(60 // 5) // 2 * 2 + 1``); Adam
3e-5 with the default weight decay 5e-4, batch 10 with 3 same-class pairs,
22000 iterations; every sequence filled (short videos stretched) and
Kaiming-uniform initialisation, as on THUMOS14.
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import co2net


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "ccm"
  c.model.fusion.embed_dim = 0
  c.model.fusion.ccm_kernel_size = 3
  c.model.fusion.ccm_negative_slope = 0.2
  c.model.fusion.ccm_dropout = 0.5
  h = co2net.default_config()
  h.topk_divisor = 5.0
  h.pool_kernel = 13
  c.model.head = h
  c.model.fusion.ccm_weight_init = h.weight_init
  config_lib.set_training(c, num_snippets=60, sampling="uniform_stretch",
                          num_pairs=3,
                          lr=3e-5, weight_decay=5e-4, batch_size=10,
                          num_steps=22000)
  c.train.eval_every = 1000
  c.train.checkpoint_every = 1000
  c.eval.tious = config_lib.ANET_TIOUS
  c = config_lib.apply_variant(c, variant, real_name="activitynet12",
                               real_builder_config="wtalc")
  if variant == "smoke":
    c.model.head.attention_dim = 16
  return c
