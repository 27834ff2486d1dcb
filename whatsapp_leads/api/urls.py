"""REST API routes (filled by the API issue); kept so hosts can include the app's URLs today."""

urlpatterns: list = []
