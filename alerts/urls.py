from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/action/", views.alert_action, name="action"),
    path("silences/", views.silences, name="silences"),
    path("silences/<int:pk>/end/", views.silence_end, name="silence-end"),
    path("channels/", views.channels, name="channels"),
    path("channels/<int:pk>/", views.channel_edit, name="channel-edit"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel-test"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
]
