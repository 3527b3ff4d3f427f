"""Each head's published post-processing recipe, and the evaluator's notes.

``PUBLISHED_RECIPES[head_kind]`` is ``(recipe_name, params)`` for
:func:`wtal_jax.evaluation.postprocess`; a head's config can start from it and
override single parameters. The parameter values are the THUMOS14 defaults of
each method's public code. What each head must pass as ``cas_TxC`` and
``attention_T`` for the recipe to mean what it meant there:

* ``caav``, ``threec``: the per-class T-CAM; ``wtalc`` ignores attention.
  (3C-Net's code derives from W-TALC and thresholds its T-CAM the same way.)
* ``um``: the CAS normalised as in UM's test code, attention = the normalised
  feature magnitude; two passes (CAS and magnitude), hard NMS at 0.6.
* ``asl``: ``(softmax(cas) + a_rgb + a_flow) / 3`` as the CAS; hard NMS 0.4.
* ``hamnet``, ``co2net``: the raw CAS and the attention; thresholds on the
  attention, contrast scored on CAS x attention, Gaussian soft-NMS (0.3).
"""

from __future__ import annotations

import copy
from typing import Any

_THUMOS_LINSPACE_10 = tuple(round(0.1 + i * 0.8 / 9, 10) for i in range(10))

PUBLISHED_RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "caav": ("wtalc", {}),
    "threec": ("wtalc", {}),
    "um": ("oic", dict(
        activation=("cas", "attention"),
        thresholds=(tuple(round(0.025 * i, 3) for i in range(10)),
                    tuple(round(0.4 + 0.025 * i, 3) for i in range(9))),
        scale=24, min_len=2, outer_ratio=0.25, gamma=0.2,
        class_threshold=0.2, score_activation="cas",
        score_on_thresholded=True, nms="hard", nms_iou=0.6)),
    "asl": ("oic", dict(
        activation="cas", thresholds=tuple(round(0.1 * i, 1)
                                           for i in range(1, 10)),
        scale=24, min_len=1, outer_ratio=0.25, gamma=0.2,
        class_threshold=0.25, score_activation="cas", nms="hard",
        nms_iou=0.4)),
    "hamnet": ("oic", dict(
        activation="attention", thresholds=_THUMOS_LINSPACE_10, scale=1,
        min_len=1, outer_ratio=0.25, gamma=0.2, class_threshold=0.2,
        score_activation="product", nms="soft", nms_sigma=0.3)),
    "co2net": ("oic", dict(
        activation="attention", thresholds=_THUMOS_LINSPACE_10, scale=1,
        min_len=1, outer_ratio=0.25, gamma=0.2, class_threshold=0.2,
        score_activation="product", nms="soft", nms_sigma=0.3)),
}


def recipe_for_head(head_kind: str) -> tuple[str, dict[str, Any]]:
  """Returns ``(recipe, params)`` published for a head (a fresh copy)."""
  if head_kind not in PUBLISHED_RECIPES:
    raise KeyError(f"No published post-processing for head {head_kind!r}; "
                   f"known: {sorted(PUBLISHED_RECIPES)}.")
  name, params = PUBLISHED_RECIPES[head_kind]
  return name, copy.deepcopy(params)


METHOD_NOTES = """\
### Evaluation

* **Detection mAP** reproduces ActivityNet's official `eval_detection.py`
  exactly (agreement to 1e-12 with a loop-for-loop transcription on random
  cases): per class, predictions sorted by `np.argsort(scores)[::-1]` in the
  order they appear; each prediction tries the ground truths of its video in
  descending tIoU (official tie order) and locks the first unlocked one with
  tIoU >= t, separately per threshold; continuous tIoU; VOC-interpolated AP
  with sentinels; mAP over the classes with ground truth, a class without
  predictions scoring 0. The official quirk that a zero-length prediction can
  match a zero-length ground truth (0/0 = NaN) is kept.
* Predictions on videos outside the subset are false positives, as
  officially (`outside_subset="drop"` ignores them); either way they are
  counted. Predictions of classes without ground truth enter no AP (the
  official code raises) and are counted.
* THUMOS14 ambiguous segments: removal of predictions that overlap one
  (positive intersection, any class) is **off by default** and reported when
  on. Every result states the number of test videos (releases differ: 210 or
  212).
* Thresholds: THUMOS14 0.1:0.1:0.7 (also 0.1:0.9), ActivityNet 0.5:0.05:0.95.
* Classification mAP: per class, non-interpolated AP of the video scores
  (W-TALC's `getClassificationMAP`), averaged over classes with at least one
  positive video; returned as a fraction. AVE: snippet accuracy over real
  snippets.

### Post-processing

* `wtalc` (CAAV, 3C-Net): classes with video score >= the mean over classes;
  per class, snippets with CAS strictly above `max - 0.5 (max - min)`; runs of
  >= 2 snippets; score = run maximum + 0.7 x class score; no NMS.
* `oic` (UM, ASL, HAM-Net, CO2-Net): classes with video score >= a threshold
  (else the arg-max class); the activation (CAS, attention or their product)
  linearly upsampled to exactly `T x scale` points (the last snippet gap is
  extrapolated); for each threshold, runs of points strictly above it with at
  least `min_len` points; score = mean inside - mean of the two outer bands
  (0.25 x length each, clipped to the video) + gamma x class score; UM's
  variant scores the thresholded CAS copy (`score_on_thresholded`). Point `j`
  is at `j x seconds_per_snippet / scale`.
* NMS per class and video on tIoU in seconds without the public code's +1
  length offset: hard (suppress tIoU >= threshold) or Gaussian soft-NMS
  (`score x exp(-tIoU^2 / sigma)`, nothing dropped); ties go to the earlier
  proposal.
"""
