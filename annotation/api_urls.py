from django.urls import path

from .api.export import (
    ExportPreferencesApi,
    ExportSftApi,
    SnapshotDetailApi,
    SnapshotDownloadApi,
    SnapshotFreezeApi,
)
from .api.projects import (
    ProjectDetailApi,
    ProjectImportApi,
    ProjectListCreateApi,
    ProjectMemberAddApi,
    ProjectStatsApi,
)
from .api.quality import ProjectQualityApi
from .api.tasks import (
    DemonstrationReviewApi,
    DemonstrationReviewListApi,
    TaskDemonstrationCreateApi,
    TaskJudgmentCreateApi,
    TaskNextApi,
    TaskSkipApi,
)

app_name = "annotation-api"

urlpatterns = [
    # Every annotator click: tried first (patterns are tried in order).
    path("projects/<int:project_id>/tasks/next/", TaskNextApi.as_view(), name="task-next"),
    path("tasks/<int:task_id>/judgments/", TaskJudgmentCreateApi.as_view(), name="task-judgments"),
    path("projects/", ProjectListCreateApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<int:project_id>/members/", ProjectMemberAddApi.as_view(), name="project-members"),
    path("projects/<int:project_id>/import/", ProjectImportApi.as_view(), name="project-import"),
    path("projects/<int:project_id>/stats/", ProjectStatsApi.as_view(), name="project-stats"),
    path("projects/<int:project_id>/quality/", ProjectQualityApi.as_view(), name="project-quality"),
    path("projects/<int:project_id>/demonstrations/", DemonstrationReviewListApi.as_view(), name="review-list"),
    path("projects/<int:project_id>/export/preferences/", ExportPreferencesApi.as_view(), name="export-preferences"),
    path("projects/<int:project_id>/export/sft/", ExportSftApi.as_view(), name="export-sft"),
    path("projects/<int:project_id>/snapshots/", SnapshotFreezeApi.as_view(), name="snapshot-freeze"),
    path("snapshots/<int:snapshot_id>/", SnapshotDetailApi.as_view(), name="snapshot-detail"),
    path("snapshots/<int:snapshot_id>/download/", SnapshotDownloadApi.as_view(), name="snapshot-download"),
    path("tasks/<int:task_id>/demonstrations/", TaskDemonstrationCreateApi.as_view(), name="task-demonstrations"),
    path("tasks/<int:task_id>/skip/", TaskSkipApi.as_view(), name="task-skip"),
    path("demonstrations/<int:demonstration_id>/review/", DemonstrationReviewApi.as_view(), name="review"),
]
