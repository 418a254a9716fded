from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    name = "aquifer.permits"
    label = "permits"
    verbose_name = _("取水许可")
    default_auto_field = "django.db.models.BigAutoField"
