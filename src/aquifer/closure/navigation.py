"""The closure app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.core.navigation import GOVERNANCE, register

register(GOVERNANCE, _("关井压采"), "closure:index", nav_key="closure", order=10)
