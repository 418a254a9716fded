from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "aquifer.core"
    label = "core"
    verbose_name = _("核心")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aquifer.core import audit, checks, morning, navigation, policies, search, security

        audit.connect_signals()
        security.connect_signals()
        del checks  # imported for its @register
        # Every app's policies.py (models are all loaded before any ready() runs).
        policies._declare_core()
        policies.autodiscover()
        # Every app's morning.py: the home page's figures per role (core/morning.py).
        morning.autodiscover()
        # Every app's navigation.py (the main menu) and search.py (the global search).
        navigation._declare_core()
        navigation.autodiscover()
        search.autodiscover()
