from django.contrib import admin

from aquifer.supervision.models import (
    Accountability,
    Assessment,
    Inspection,
    Rectification,
    ScoringMethod,
    Target,
    WorkPlan,
)

for model in (
    WorkPlan,
    Target,
    ScoringMethod,
    Assessment,
    Inspection,
    Rectification,
    Accountability,
):
    admin.site.register(model)
