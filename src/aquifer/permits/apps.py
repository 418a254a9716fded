from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermitsConfig(AppConfig):
    name = "aquifer.permits"
    label = "permits"
    verbose_name = _("取水许可")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The hooks of the apps below that permits answers (aquifer.core.hooks).
        from aquifer.accounting import hooks
        from aquifer.permits import quotas, services
        from aquifer.registry.hooks import well_activation

        well_activation.register(services.activation_objections)
        hooks.well_quota_shares.register(quotas.well_quota_shares)
        hooks.user_groundwater_quotas.register(quotas.user_groundwater_quotas)
