"""Benchmarks of jamhost's live path; see bench/README.md."""
