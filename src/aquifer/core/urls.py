"""Core pages: login, logout and the audit trail."""

from django.urls import path

from aquifer.core import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_list, name="audit_list"),
    path("search/", views.search, name="search"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("saved-filters/", views.saved_filter_create, name="saved_filter_create"),
    path("saved-filters/<int:pk>/delete", views.saved_filter_delete, name="saved_filter_delete"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
]
