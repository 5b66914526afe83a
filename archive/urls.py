from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("archive.site_urls")),
]

# Dutch pages from templates/<status>.html, JSON under /api/ (archive/views.py).
handler400 = "archive.views.bad_request"
handler403 = "archive.views.permission_denied"
handler404 = "archive.views.page_not_found"
# A database failure raised by a middleware still answers the 503 (archive/failures.py).
handler500 = "archive.failures.server_error"
