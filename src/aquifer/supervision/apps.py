from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "aquifer.supervision"
    label = "supervision"
    verbose_name = _("考核督查")
    default_auto_field = "django.db.models.BigAutoField"
