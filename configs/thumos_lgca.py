"""LGCA (2 stages, leaky gates) + CAAV open-max head on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 1 / Table 3 "Ours (on CAAV)" recipe (two-stage
leaky gated cross-attention with CAAV's head, losses and optimizer), applied
here to RGB-flow fusion.

Data: ``thumos14`` prepared from the W-TALC feature release (default), or
``:synthetic`` for the generated THUMOS-shaped dataset, or ``:smoke`` (tiny).
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
  return config_lib.apply_variant(c, variant)
