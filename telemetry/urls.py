from django.urls import path, re_path

from telemetry import views

app_name = "telemetry"

KIND = r"(?P<kind>battery|meter)"

urlpatterns = [
    path("sites/", views.site_list, name="sites"),
    path("sites/new/", views.site_form, name="site-new"),
    path("sites/<slug:code>/", views.site_detail, name="site"),
    path("sites/<slug:code>/edit/", views.site_form, name="site-edit"),
    path("types/", views.type_list, name="types"),
    path("types/new/", views.type_form, name="type-new"),
    path("types/<int:pk>/edit/", views.type_form, name="type-edit"),
    path("batteries/", views.asset_list, {"kind": "battery"}, name="batteries"),
    path("meters/", views.asset_list, {"kind": "meter"}, name="meters"),
    re_path(rf"^{KIND}/export/(?P<fmt>csv|xlsx|pdf)$", views.asset_list_export, name="list-export"),
    re_path(rf"^{KIND}/new/$", views.asset_form, name="new"),
    re_path(rf"^{KIND}/(?P<pk>\d+)/$", views.asset_detail, name="asset"),
    re_path(rf"^{KIND}/(?P<pk>\d+)/edit/$", views.asset_form, name="edit"),
    re_path(rf"^{KIND}/(?P<pk>\d+)/delete/$", views.asset_delete, name="delete"),
    re_path(rf"^{KIND}/(?P<pk>\d+)/key/$", views.asset_key, name="key"),
]
