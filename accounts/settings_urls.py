from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("profile/", views.profile, name="profile"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/", views.user_action, name="user-action"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.revoke_api_key, name="api-key-revoke"),
    path("audit-log/", views.audit_log, name="audit-log"),
]
