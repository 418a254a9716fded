from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClosureConfig(AppConfig):
    name = "aquifer.closure"
    label = "closure"
    verbose_name = _("关井压采")
    default_auto_field = "django.db.models.BigAutoField"
