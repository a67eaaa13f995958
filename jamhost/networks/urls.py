from django.urls import URLPattern

app_name = "networks"
urlpatterns: list[URLPattern] = []
