"""The engineers' admin for the training app: jobs (launch per kind, cancel, retry, clone) and artifacts.

Importing the modules registers their ModelAdmins. JobMetric is deliberately not registered: a long run writes
millions of points, which the job page charts instead.
"""

from . import artifacts, jobs

__all__ = ["artifacts", "jobs"]
