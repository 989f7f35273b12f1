"""Server benchmarks (``python -m bench.server``): fan-out against websockets' broadcast()
floor, slow clients, and per-push work against the number of channels known."""
