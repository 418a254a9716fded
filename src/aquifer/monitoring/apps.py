from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "aquifer.monitoring"
    label = "monitoring"
    verbose_name = _("监测预警")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The hooks of the apps below that monitoring answers (aquifer.core.hooks).
        from aquifer.monitoring.messages import notice_text
        from aquifer.monitoring.sweeps import report_device_status
        from aquifer.notifications import hooks as notification_hooks
        from aquifer.telemetry.hooks import device_status

        device_status.register(report_device_status)
        notification_hooks.notice_text.register(notice_text)
