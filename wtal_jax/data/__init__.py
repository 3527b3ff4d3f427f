"""Feature datasets: the record schema, dataset registry and input pipeline."""
