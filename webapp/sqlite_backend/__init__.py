"""SQLite with a fast hand-over of the write lock between threads and processes (see base.py)."""
