"""Core pages: login, logout and the audit trail."""

from django.urls import path

from aquifer.core import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_list, name="audit_list"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
]
