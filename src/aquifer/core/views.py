"""Placeholder replaced by the UI work."""

from django.contrib.auth import views as auth_views
from django.http import HttpResponse


def home(request):  # pragma: no cover
    return HttpResponse("Aquifer")


def audit_list(request):  # pragma: no cover
    return HttpResponse("audit")


LoginView = auth_views.LoginView
LogoutView = auth_views.LogoutView
