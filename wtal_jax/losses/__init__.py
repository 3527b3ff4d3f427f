"""Pure loss functions. Each returns ``(sum, count)`` pairs (see heads/base)."""
