from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo county: ``aquifer demo`` builds each app's demo part, in layer order."""

    name = "aquifer.demo"
    label = "demo"
    verbose_name = _("演示")
