"""The analysis app's items in the main menu (core/navigation.py)."""

from django.utils.translation import gettext_lazy as _

from aquifer.analysis.filters import QualitySampleFilterSet
from aquifer.core.filters import savable_list
from aquifer.core.navigation import MONITORING, register

register(
    MONITORING,
    _("水位趋势"),
    "analysis:well_trends",
    nav_key="level-trends",
    order=50,
)
register(
    MONITORING,
    _("水质"),
    "analysis:sample_list",
    nav_key="quality",
    order=60,
)
register(MONITORING, _("分析"), "analysis:overview", nav_key="analysis", order=70)
register(MONITORING, _("采补平衡"), "analysis:balance", nav_key="balance", order=80)

savable_list(
    "analysis:sample_list", QualitySampleFilterSet
)  # its filter can be saved (core.SavedFilter)
