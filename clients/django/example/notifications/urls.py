from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.index, name="index"),
    path("notify/", views.notify, name="notify"),
    path("welcome/", views.welcome_user, name="welcome"),
    path("results/<int:pk>/", views.result_row, name="row"),
    path("inbox/", views.inbox, name="inbox"),
    path("ntfy/<slug:topic>", views.ntfy, name="ntfy"),
]
