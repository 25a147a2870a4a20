"""Evaluation pages, mounted at /evaluations/ (namespace "evaluation"); their JSON lives under /api/v1/."""

from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("", views.leaderboard_page, name="leaderboard"),
    path("compare/", views.compare, name="compare"),
    path("<int:run_id>/", views.run_detail, name="run-detail"),
]
