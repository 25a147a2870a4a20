"""The engineers' admin: projects and members, prompts, responses, tasks, judgments, demonstrations, snapshots.

Every change goes through ``annotation.services``; rows that record annotators' work or a frozen dataset are
read-only. Importing the modules registers their ModelAdmins.
"""

from . import projects, records

__all__ = ["projects", "records"]
