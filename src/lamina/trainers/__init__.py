"""The training loop (``fit``/``evaluate``/``predict``), the data sources it reads and the
fused plan that trains a chain of built-in layers without per-op bookkeeping."""
