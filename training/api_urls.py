from django.urls import path

from .api import (
    ArtifactDetailApi,
    JobCancelApi,
    JobCloneApi,
    JobDetailApi,
    JobKindsApi,
    JobListCreateApi,
    JobMetricsApi,
    JobRetryApi,
)

app_name = "training-api"

urlpatterns = [
    path("jobs/", JobListCreateApi.as_view(), name="job-list"),
    path("jobs/kinds/", JobKindsApi.as_view(), name="job-kinds"),
    path("jobs/<int:job_id>/", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel/", JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<int:job_id>/retry/", JobRetryApi.as_view(), name="job-retry"),
    path("jobs/<int:job_id>/clone/", JobCloneApi.as_view(), name="job-clone"),
    path("jobs/<int:job_id>/metrics/", JobMetricsApi.as_view(), name="job-metrics"),
    path("artifacts/<int:artifact_id>/", ArtifactDetailApi.as_view(), name="artifact-detail"),
]
