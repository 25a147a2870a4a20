"""Every non-trivial read in the annotation app."""
