from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

# The API first: URL resolution tries patterns in order, and annotators' clicks are most of the requests.
urlpatterns = [
    path("api/v1/", include("annotation.api_urls")),
    path("api/v1/", include("training.api_urls")),
    path("api/v1/", include("evaluation.api_urls")),
    path("", views.root, name="root"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("annotate/", include("annotation.urls")),
    path("jobs/", include("training.urls")),
    path("evaluations/", include("evaluation.urls")),
]
