from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    name = "aquifer.maintenance"
    label = "maintenance"
    verbose_name = _("设备运维")
    default_auto_field = "django.db.models.BigAutoField"
