from .judgments import Assignment, Demonstration, Judgment, Strength
from .projects import Membership, Project, Role
from .prompts import Prompt, Response, Split
from .snapshots import DatasetSnapshot, PreferencePair
from .tasks import AnnotatorCursor, Task, TaskKind, TaskState

__all__ = [
    "AnnotatorCursor",
    "Assignment",
    "DatasetSnapshot",
    "Demonstration",
    "Judgment",
    "Membership",
    "PreferencePair",
    "Project",
    "Prompt",
    "Response",
    "Role",
    "Split",
    "Strength",
    "Task",
    "TaskKind",
    "TaskState",
]
