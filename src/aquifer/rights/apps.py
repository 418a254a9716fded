from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "aquifer.rights"
    label = "rights"
    verbose_name = _("水权交易")
    default_auto_field = "django.db.models.BigAutoField"
