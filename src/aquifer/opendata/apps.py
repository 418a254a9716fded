from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpendataConfig(AppConfig):
    name = "aquifer.opendata"
    label = "opendata"
    verbose_name = _("开放数据")
    default_auto_field = "django.db.models.BigAutoField"
