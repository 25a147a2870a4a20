from django.apps import AppConfig


class WebappConfig(AppConfig):
    name = "webapp"
    verbose_name = "plumbline"

    def ready(self) -> None:
        from .celery import ensure_broker_folders

        ensure_broker_folders()
