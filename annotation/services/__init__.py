"""Every write in the annotation app. Import from the submodules; this package re-exports the public names."""

from .assignment import leases_expire, task_assign_next, task_skip
from .demonstrations import demonstration_review, demonstration_submit
from .imports import ImportError_, ImportSummary, prompts_import
from .judgments import judgment_submit
from .projects import membership_set, project_create, project_update
from .responses import NewResponse, responses_add
from .snapshots import snapshot_freeze

__all__ = [
    "ImportError_",
    "ImportSummary",
    "NewResponse",
    "demonstration_review",
    "demonstration_submit",
    "judgment_submit",
    "leases_expire",
    "membership_set",
    "project_create",
    "project_update",
    "prompts_import",
    "responses_add",
    "snapshot_freeze",
    "task_assign_next",
    "task_skip",
]
