from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The pages that draw on several apps at once: home, a person, a case, and the case
    actions a forum decides. Above every domain app; nothing imports it."""

    name = "pages"
    verbose_name = "Pages"
