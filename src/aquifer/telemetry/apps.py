from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetryConfig(AppConfig):
    name = "aquifer.telemetry"
    label = "telemetry"
    verbose_name = _("遥测")
    default_auto_field = "django.db.models.BigAutoField"
