"""The published fusions that are not one method's own module: the raw
concatenation (UM, ASL, HAM-Net, 3C-Net) and CAAV's multi-stage
cross-attention."""

from __future__ import annotations

import ml_collections


def concat(c: ml_collections.ConfigDict) -> None:
  """The raw features concatenated, no embedding."""
  c.model.fusion.kind = "concat"
  c.model.fusion.embed_dim = 0


def cross_attention(c: ml_collections.ConfigDict, num_stages: int = 2,
                    skip: str = "dense") -> None:
  """CAAV's multi-stage cross-attention (CAAV §3.1): ``num_stages`` stages
  with dense skip connections on the stage-0 embeddings (d_x = 1024)."""
  c.model.fusion.kind = "cross_attention"
  c.model.fusion.embed_dim = 1024
  c.model.fusion.num_stages = num_stages
  c.model.fusion.skip = skip
