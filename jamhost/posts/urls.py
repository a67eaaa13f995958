from django.urls import URLPattern

app_name = "posts"
urlpatterns: list[URLPattern] = []
