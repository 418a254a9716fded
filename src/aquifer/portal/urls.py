"""Pages of the portal (URL names ``portal:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.portal import views

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("portal/", views.home, name="home"),
    path("portal/wells/<str:code>/", views.well, name="well"),
    path("portal/zones/", views.zones, name="zones"),
    path("portal/withdrawals/", views.withdrawals, name="withdrawals"),
    path("portal/trades/", views.trades, name="trades"),
    path("portal/progress/", views.progress, name="progress"),
    path("portal/news/", views.news_list, name="news_list"),
    path("portal/news/<int:pk>/", views.news_detail, name="news_detail"),
    path("portal/regulations/", views.regulations, name="regulations"),
    path("portal/data/", views.downloads_page, name="downloads"),
    path("portal/data/<str:dataset>.<str:fmt>", views.download, name="download"),
    path("portal/complaints/new/", views.complaint_new, name="complaint_new"),
    path("portal/complaints/follow/", views.complaint_follow, name="complaint_follow"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/act", views.complaint_act, name="complaint_act"),
    path("complaints/<int:pk>/case/<slug:kind>", views.complaint_case, name="complaint_case"),
    path("portal/manage/news/", views.news_manage, name="news_manage"),
    path("portal/manage/news/<int:pk>/", views.news_manage, name="news_edit"),
]
