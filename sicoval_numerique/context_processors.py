from django.conf import settings

from accounts.navigation import navigation_for


def platform(request):
    """Name of the platform and the navigation the current user's role gives."""
    return {
        "platform_name": settings.PLATFORM_NAME,
        "territoire_nom": settings.TERRITOIRE_NOM,
        "nav_items": navigation_for(request),
    }
