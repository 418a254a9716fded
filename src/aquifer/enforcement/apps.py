from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    name = "aquifer.enforcement"
    label = "enforcement"
    verbose_name = _("执法监管")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The answer to analysis's hook: the registered pollution sources near a monitoring
        # well that raises a quality warning.
        from aquifer.analysis.hooks import quality_warning_sources
        from aquifer.enforcement.pollution import sources_near_well

        quality_warning_sources.register(sources_near_well)

        # The answer to closure's hook: a closed well still drawing water opens a case.
        from aquifer.closure.hooks import closed_well_withdrawal
        from aquifer.enforcement.services import case_for_closed_well

        closed_well_withdrawal.register(case_for_closed_well)
