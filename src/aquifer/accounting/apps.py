from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "aquifer.accounting"
    label = "accounting"
    verbose_name = _("取水量核算")
    default_auto_field = "django.db.models.BigAutoField"
