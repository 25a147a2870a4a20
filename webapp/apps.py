from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "plumbline"

    def ready(self) -> None:
        from .local_state import ensure_local_folders

        ensure_local_folders()
