"""Evaluation pages (staff only): the leaderboard, one run with its examples, two model versions compared.

Views stay thin: numbers come from ``evaluation.selectors`` and the models; charts are drawn by small scripts in
``static/evaluation/`` with Plotly served by the training app (never a copy of the library).
"""

from .compare import compare
from .leaderboard import leaderboard_page
from .runs import run_detail

__all__ = ["compare", "leaderboard_page", "run_detail"]
