from django.urls import path

from .api import EvaluationDetailApi, EvaluationExamplesDownloadApi, LeaderboardApi, ModelEvaluationsApi

app_name = "evaluation-api"

urlpatterns = [
    path("models/<int:model_id>/evaluations/", ModelEvaluationsApi.as_view(), name="model-evaluations"),
    path("evaluations/<int:evaluation_id>/", EvaluationDetailApi.as_view(), name="evaluation-detail"),
    path("evaluations/<int:evaluation_id>/examples/", EvaluationExamplesDownloadApi.as_view(), name="examples"),
    path("leaderboard/", LeaderboardApi.as_view(), name="leaderboard"),
]
