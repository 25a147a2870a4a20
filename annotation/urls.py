from django.urls import path

from . import views

app_name = "annotation"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<int:project_id>/compare/", views.compare, name="compare"),
    path("projects/<int:project_id>/demonstrate/", views.demonstrate, name="demonstrate"),
    path("projects/<int:project_id>/review/", views.review, name="review"),
    path("projects/<int:project_id>/quality/", views.quality, name="quality"),
    path("projects/<int:project_id>/progress/", views.progress, name="progress"),
    path("preview/", views.markdown_preview, name="preview"),
]
