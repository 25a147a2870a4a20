"""Job and artifact pages, mounted at /jobs/ (namespace "training"); their JSON lives under /api/v1/."""

from django.urls import path

from . import views
from .views import models as model_views

app_name = "training"

urlpatterns = [
    path("", views.job_list, name="job-list"),
    path("<int:job_id>/", views.job_detail, name="job-detail"),
    path("<int:job_id>/log/", views.job_log, name="job-log"),
    path("artifacts/<int:artifact_id>/", views.artifact_detail, name="artifact-detail"),
    path("artifacts/<int:artifact_id>/download/", views.artifact_download, name="artifact-download"),
    path("models/", model_views.model_list, name="model-list"),
    path("models/<int:artifact_id>/", model_views.model_detail, name="model-detail"),
    path("models/<int:artifact_id>/samples/", model_views.model_samples_launch, name="model-samples"),
    path("tokenizers/compare/", views.tokenizer_compare, name="tokenizer-compare"),
    path("static/plotly.min.js", views.plotly_js, name="plotly-js"),
]
