from charging.views import analyses, imports

app_name = "charging"
urlpatterns = [*analyses.urlpatterns, *imports.urlpatterns]
