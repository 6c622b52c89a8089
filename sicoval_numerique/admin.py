"""Admin bases shared by the apps."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin


class ReadOnlyMixin:
    """Rows that change only through their services (the pages keep rules, notifications and history
    consistent): the admin shows them and changes nothing."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    """Read-only, with the row's history."""


class ReadOnlyModelAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only, for a model without history."""
