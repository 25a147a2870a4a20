"""HTML pages for jobs and artifacts (staff only): list, live job page, artifact lineage, downloads, comparisons.

Views stay thin: data comes from ``training.selectors`` and the models' own properties; the pages' live parts
(progress, log, charts) are fed by the JSON API through ``static/training/job.js``.
"""

from .artifacts import artifact_detail, artifact_download
from .assets import plotly_js
from .jobs import job_detail, job_list, job_log
from .tokenizers import tokenizer_compare

__all__ = [
    "artifact_detail",
    "artifact_download",
    "job_detail",
    "job_list",
    "job_log",
    "plotly_js",
    "tokenizer_compare",
]
