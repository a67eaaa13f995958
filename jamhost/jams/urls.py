from django.urls import path

from jamhost.jams import views

app_name = "jams"
urlpatterns = [
    path("", views.jam_list, name="list"),
    path("jams/<slug:slug>/", views.jam_detail, name="detail"),
]
