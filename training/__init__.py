"""The trainers that make the shipped weights: developers run them, users need not (docs/training.md)."""
