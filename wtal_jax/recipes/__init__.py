"""Every published method's recipe, one module each: what it trains with.

A recipe module holds, for its method, the facts of its paper and public
code that a config needs, and nothing that runs:

* ``head()``: the head's hyperparameters (``config.model.head``);
* ``apply(c, dataset)``: the head, the snippet sampling, the optimizer, the
  schedule and the post-processing published for ``dataset``;
* ``own_fusion(c)``: the fusion the method was published with;
* ``synthetic(c)``: its scaling for the CPU-sized ``:synthetic`` variant;
* ``smoke(c)``: its tiny widths for tests;
* ``POSTPROCESS``: ``(recipe, params)`` of its test-time post-processing.

``lgca`` is the recipe of the fusion: where LGCA sits in front of each head
and how its gates start. A config file composes one recipe, one fusion and
one dataset with :func:`wtal_jax.config_lib.compose`.
"""

from wtal_jax.recipes import asl, caav, co2net, fusions, hamnet, lgca, threec, um

# Head kind -> the recipe of the method that published it.
BY_HEAD = {"caav": caav, "um": um, "asl": asl, "threec": threec,
           "hamnet": hamnet, "co2net": co2net}


def for_head(kind: str):
  """The recipe module of the method whose head is ``kind``.

  Raises:
    KeyError: No recipe publishes that head.
  """
  if kind not in BY_HEAD:
    raise KeyError(f"No recipe for head {kind!r}; recipes exist for "
                   f"{sorted(BY_HEAD)}.")
  return BY_HEAD[kind]


__all__ = ["BY_HEAD", "asl", "caav", "co2net", "for_head", "fusions",
           "hamnet", "lgca", "threec", "um"]
