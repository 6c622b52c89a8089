"""Admin bases shared by the apps."""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
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


class _ValeursValides:
    """An autocomplete widget that shows only the values of the right type: Django's own looks the posted values up
    to show them again (``optgroups``), and a value that is not a number (``conseiller=x``) raised a ValueError there,
    a 500, where the form had already refused it with its message."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        to_field = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        valides = []
        for item in value:
            try:
                to_field.to_python(item)
            except ValidationError:
                continue
            valides.append(item)
        return super().optgroups(name, valides, attr)


class AutocompleteSelectSur(_ValeursValides, AutocompleteSelect):
    pass


class AutocompleteSelectMultipleSur(_ValeursValides, AutocompleteSelectMultiple):
    pass


class AutocompleteSurMixin:
    """For the admins with ``autocomplete_fields``: their widgets show a form sent back with a malformed value (a
    400 page with its message) instead of failing (``_ValeursValides``)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is AutocompleteSelect:
            formfield.widget.__class__ = AutocompleteSelectSur
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is AutocompleteSelectMultiple:
            formfield.widget.__class__ = AutocompleteSelectMultipleSur
        return formfield
