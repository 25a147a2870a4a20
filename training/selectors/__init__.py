"""Every non-trivial read in the training app."""
