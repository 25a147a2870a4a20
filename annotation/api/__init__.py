"""DRF endpoints of the annotation app: one view per operation, each calling one service or selector."""
