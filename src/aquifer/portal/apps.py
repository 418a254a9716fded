from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "aquifer.portal"
    label = "portal"
    verbose_name = _("公众服务")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What closure, enforcement and supervision publish here, and the cases a complaint
        # opens in them (portal/wiring.py fills portal/panels.py's extension points).
        from aquifer.portal.wiring import register

        register()
