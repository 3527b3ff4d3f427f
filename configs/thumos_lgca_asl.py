"""LGCA (one stage, leaky gates) + the ASL head on THUMOS14 RGB and flow.

Reproduces: LGCA paper Table 3 (also Table 9), row "Ours (on ASL)":
THUMOS14 avg mAP@[0.1:0.1:0.7] = 41.0 (68.0 / 61.3 / 52.6 / 42.8 / 31.4 /
20.1 / 11.1). The classifier reads LGCA's fused output, each actionness head
its modality's LGCA stream (``FusionOutput.per_modality``).
"""

from wtal_jax import config_lib
from wtal_jax.models.heads import asl


def get_config(variant: str = ""):
  c = config_lib.base_config()
  c.model.fusion.kind = "lgca"
  c.model.fusion.embed_dim = 1024
  c.model.fusion.num_stages = 1
  c.model.fusion.gate = "leaky"
  c.model.fusion.temperature = 0.1
  c.model.head = asl.default_config()
  c.data.num_snippets = 750
  c.data.snippet_sampling = "uniform"
  c.data.num_pairs = 0
  c.train.lr = 1e-4
  c.train.weight_decay = 5e-4
  c.train.batch_size = 16
  c.train.num_steps = 10000
  c = config_lib.apply_variant(c, variant)
  if variant == "smoke":
    c.model.head.hidden_dim = 16
    c.model.head.actionness_dim = 16
  return c
