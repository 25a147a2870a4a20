from .artifacts import Artifact
from .jobs import Job, JobMetric, JobStatus

__all__ = ["Artifact", "Job", "JobMetric", "JobStatus"]
