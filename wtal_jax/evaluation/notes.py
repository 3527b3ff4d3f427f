"""What the evaluator and the post-processing recipes interpret, as Markdown
(the evaluation part of docs/method_notes.md, kept beside the code it
describes)."""

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
