"""The partner API's base: one viewset class that scopes every queryset to the calling client's structure before any
handler runs, re-checks every write against that scope, and makes POSTs idempotent; its permission (scopes per
resource family), throttles, cursor pagination and related fields that only accept the client's own objects.

A viewset declares its family, its model and its scope in a few lines::

    class SeanceViewSet(mixins.ListModelMixin, ..., PartnerViewSet):
        scope_family = "ateliers"
        queryset = Seance.objects.none()  # the model, for the schema; never read
        def scoped_queryset(self, structure): return Seance.objects.filter(atelier__structure=structure)

Fail closed: without a client (and without ``public_read`` on a read) the queryset is empty; a write whose result
falls out of the scope is rolled back and answers 404.
"""

import datetime
import hashlib
import json
import logging
import uuid
from datetime import timedelta

import django_filters
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from rest_framework import exceptions, pagination, permissions, relations, serializers, status, throttling, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from partenaires.actor import ActeurAPI
from partenaires.models import CleIdempotence
from partenaires.oauth import PartnerAuthentication
from partenaires.scopes import READ, WRITE, scope

from . import StrictFilterSet, StrictOrderingFilter
from . import schema as _schema  # noqa: F401  (registers the OpenAPI extensions of the partner API)

logger = logging.getLogger("partenaires.api")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255


def client_of(request):
    """The partner client of a request authenticated with a token, or None."""
    return getattr(request, "client_api", None)


class ScopeRequired(permissions.BasePermission):
    """Reads need the family's ``read`` scope, writes its ``write`` scope. Without a token: 401, except for the
    reads of a public resource (``public_read``). With a token lacking the scope: 403, naming the scope."""

    def has_permission(self, request, view):
        if request.method.lower() not in view.http_method_names or not hasattr(view, request.method.lower()):
            return True  # a method the endpoint does not have: 405, whoever asks
        client = client_of(request)
        safe = request.method in permissions.SAFE_METHODS
        if client is None:
            if safe and getattr(view, "public_read", False):
                return True
            raise exceptions.NotAuthenticated("Authentification requise : un jeton d'accès (OAuth2, Bearer).")
        if safe and getattr(view, "public_read", False):
            return True
        needed = scope(view.scope_family, READ if safe else WRITE)
        if needed not in request.auth.scope.split():
            raise exceptions.PermissionDenied(f"Ce jeton n'a pas le droit « {needed} » nécessaire à cette opération.")
        return True


class AnonThrottle(throttling.AnonRateThrottle):
    """Per IP, for requests without a token."""

    def get_cache_key(self, request, view):
        if client_of(request) is not None:
            return None
        return super().get_cache_key(request, view)


class ClientThrottle(throttling.SimpleRateThrottle):
    """Per partner client, whatever the IP it calls from."""

    scope = "client"

    def get_cache_key(self, request, view):
        client = client_of(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.uuid}


class SyncPagination(pagination.CursorPagination):
    """Cursor pagination for the collections partners synchronise: stable under concurrent writes, no count query.
    Sorted by last modification (oldest first) unless another ordering is asked for."""

    page_size = 50
    page_size_query_param = "taille"
    max_page_size = 200
    ordering = ("updated_at", "id")
    invalid_cursor_message = "Curseur invalide : utilisez le lien « next » ou « previous » d'une réponse."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {self.page_size_query_param: [f"La taille de page est un entier entre 1 et {self.max_page_size}."]}
            )
        return int(raw)

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        # A tie-breaker keeps every page's position unique whatever field the client sorts by.
        return tuple(ordering) if "id" in ordering else (*ordering, "id")

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, brought to UTC: PostgreSQL refuses the offsets beyond ±15:59 that ISO 8601 allows, and a
    moment at the edge of the calendar cannot be converted (400, never 500)."""

    default_error_messages = {"overflow": "Date hors des limites du calendrier."}

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["overflow"], code="overflow") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class SyncFilterSet(StrictFilterSet):
    """Filters every synchronised collection has: what changed since a date (ISO 8601 with its offset)."""

    modified_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Seulement ce qui a été créé ou modifié depuis cette date (ISO 8601, par exemple "
        "2026-11-01T00:00:00+01:00).",
    )


class ScopedRelatedField(relations.SlugRelatedField):
    """A related object named by its UUID, accepted only within the calling client's scope: the view's
    ``related_scopes[name](structure)`` gives the queryset. Anything else reads as unknown (never "not yours")."""

    default_error_messages = {
        "does_not_exist": "Aucun objet de votre périmètre n'a l'identifiant « {value} ».",
        "invalid": "Identifiant invalide : un UUID est attendu.",
    }

    def __init__(self, scope_name, **kwargs):
        self.scope_name = scope_name
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        view = self.context.get("view")
        client = client_of(request) if request is not None else None
        if client is None or view is None:
            raise exceptions.NotAuthenticated()
        return view.related_scopes[self.scope_name](client.structure)

    def to_internal_value(self, data):
        try:
            uuid.UUID(str(data))
        except (TypeError, ValueError, AttributeError):
            self.fail("invalid")
        return super().to_internal_value(data)


class PartnerViewSet(viewsets.GenericViewSet):
    """The base of every partner endpoint (see the module's docstring)."""

    authentication_classes = [PartnerAuthentication]
    permission_classes = [ScopeRequired]
    throttle_classes = [AnonThrottle, ClientThrottle]
    pagination_class = SyncPagination
    lookup_field = "uuid"
    lookup_value_regex = r"[0-9a-fA-F-]{36}"
    #: the resource family whose scopes guard this endpoint
    scope_family = None
    #: reads allowed without a token (public directory)
    public_read = False
    #: related field name → callable(structure) giving the objects a write may point to
    related_scopes = {}

    # --- scoping -------------------------------------------------------------------------------------------------
    def scoped_queryset(self, structure):
        """The objects of ``structure`` this endpoint serves (every read and write goes through it)."""
        raise NotImplementedError

    def public_queryset(self):
        """What an anonymous caller reads when ``public_read`` is set."""
        raise NotImplementedError

    @property
    def client(self):
        return client_of(self.request)

    @property
    def actor(self):
        """The ``by`` of the services: the client acting for its structure."""
        return ActeurAPI(self.client)

    def has_scope(self, mode):
        auth = self.request.auth
        return auth is not None and scope(self.scope_family, mode) in auth.scope.split()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's generation: no request, no client
            return self.queryset.none()
        client = self.client
        safe = self.request.method in permissions.SAFE_METHODS
        if client is not None:
            # Writes passed ScopeRequired with the write scope; reads of a public resource see the client's own
            # unpublished objects only with the read scope.
            if not safe or not self.public_read or self.has_scope(READ):
                return self.scoped_queryset(client.structure)
            return self.public_queryset()
        if self.public_read and safe:
            return self.public_queryset()
        raise exceptions.NotAuthenticated()  # unreachable past ScopeRequired: fail closed

    def check_in_scope(self, instance):
        """Re-checks a written object against the scope; out of it, the write is rolled back (404)."""
        if not self.scoped_queryset(self.client.structure).filter(pk=instance.pk).exists():
            raise exceptions.NotFound("Objet introuvable ou hors de votre périmètre.")

    def perform_create(self, serializer):
        with transaction.atomic():
            self.check_in_scope(serializer.save())

    def perform_update(self, serializer):
        with transaction.atomic():
            self.check_in_scope(serializer.save())

    # --- idempotent POSTs ----------------------------------------------------------------------------------------
    def initialize_request(self, request, *args, **kwargs):
        # The raw body is read before the OAuth2 authentication parses a form body, after which Django could no
        # longer give it to the idempotency fingerprint (a multipart POST with the header would answer 500).
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
            request.body  # noqa: B018 (cached by Django for every later reader)
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and self.client is not None and IDEMPOTENCY_HEADER in request.headers:
            handler = self.post
            key = request.headers[IDEMPOTENCY_HEADER]
            self.post = lambda request, *a, **kw: self._idempotent(handler, key, request, *a, **kw)

    def _idempotent(self, handler, key, request, *args, **kwargs):
        if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isascii() or not key.isprintable():
            raise serializers.ValidationError(
                {IDEMPOTENCY_HEADER: [f"La clé d'idempotence compte 1 à {IDEMPOTENCY_KEY_MAX} caractères ASCII."]}
            )
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.get_full_path().encode(), request.body])
        ).hexdigest()
        client = self.client
        CleIdempotence.objects.filter(client=client, cle=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
        previous = CleIdempotence.objects.filter(client=client, cle=key).first()
        if previous is not None:
            if previous.empreinte != fingerprint:
                return Response(
                    {"detail": "Cette clé d'idempotence a déjà servi pour une autre requête : prenez-en une nouvelle."},
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            return Response(previous.reponse, status=previous.statut, headers={"Idempotent-Replayed": "true"})
        try:
            with transaction.atomic():
                response = handler(request, *args, **kwargs)
                if status.is_success(response.status_code):
                    body = JSONRenderer().render(response.data).decode() if response.data is not None else None
                    CleIdempotence.objects.create(
                        client=client,
                        cle=key,
                        empreinte=fingerprint,
                        statut=response.status_code,
                        reponse=None if body is None else json.loads(body),
                    )
        except IntegrityError:
            return Response(
                {"detail": "Une requête avec la même clé d'idempotence est en cours : réessayez dans un instant."},
                status=status.HTTP_409_CONFLICT,
            )
        return response

    # --- access log ----------------------------------------------------------------------------------------------
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        client = self.client
        if client is not None:
            # The client and its structure, never the query string or the body (they may hold personal data).
            logger.info(
                "api client=%s structure=%s %s %s %s",
                client.uuid,
                client.structure.uuid,
                request.method,
                request.path,
                response.status_code,
            )
        return response


__all__ = [
    "PartnerViewSet",
    "ScopeRequired",
    "ScopedRelatedField",
    "SyncFilterSet",
    "SyncPagination",
    "StrictOrderingFilter",
]
