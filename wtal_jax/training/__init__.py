"""Training: state, data-parallel steps, checkpoints, reporting and the loop."""
