"""The pretraining loop and its parts (imported by the pretrain runner only: this package imports torch)."""
