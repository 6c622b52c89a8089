"""OpenAPI documentation of the API: the error format, every status an operation may answer, the OAuth2 scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension

from partenaires.scopes import READ, SCOPES, WRITE, scope

TOKEN_URL = "/api/oauth/token/"  # noqa: S105 (an address, not a secret)

ERROR_SCHEMA = {
    "type": "object",
    "description": "Une erreur : un message en français, ou les messages par champ pour une saisie invalide.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERROR_RESPONSES = {
    "400": "Paramètres invalides (filtre, tri ou saisie) : les messages disent lesquels.",
    "401": "Authentification absente ou invalide.",
    "403": "Droits insuffisants pour cette opération.",
    "404": "Objet introuvable ou hors de votre périmètre, ou page de résultats inexistante.",
    "429": "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After.",
}


NO_NUL_PATTERN = "^[^\\x00]*$"


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Une clé unique par opération (un UUID, par exemple) : renvoyer la même requête avec la même clé dans les "
        "24 heures rend la même réponse sans refaire l'opération (en-tête Idempotent-Replayed)."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    "example": "3f2c9a40-8d1e-4b7a-9a55-0c7d2e1f6b21",
}
IDEMPOTENCY_RESPONSES = {
    "409": "Une requête avec la même clé d'idempotence est en cours de traitement : réessayez.",
    "422": "Cette clé d'idempotence a déjà servi pour une requête différente.",
}


def _error_response(description):
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}},
    }


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the errors the API can answer, with one
    shared error schema, so that clients (and the contract tests) know every status they may receive; partner
    POSTs document the Idempotency-Key header and its answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Erreur"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
                    schema["pattern"] = NO_NUL_PATTERN  # Django refuses NUL characters in text input (400)
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [{}])
            authenticated = any(requirement for requirement in security)
            anonymous_allowed = {} in security or not security
            for status, description in ERROR_RESPONSES.items():
                if status == "401" and not authenticated:
                    continue  # anonymous-only operations never answer 401
                if status == "403" and anonymous_allowed:
                    continue  # public reads need no scope
                responses.setdefault(status, _error_response(description))
            if method == "post" and authenticated:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for status, description in IDEMPOTENCY_RESPONSES.items():
                    responses.setdefault(status, _error_response(description))
    return result


# --- The partner API's OAuth2 scheme ----------------------------------------------------------------------------
class PartnerAuthenticationScheme(OpenApiAuthenticationExtension):
    """OAuth2 client credentials; each operation requires its family's read or write scope. Public reads also
    work without a token (a token then shows the client's own unpublished objects too)."""

    target_class = "partenaires.oauth.PartnerAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        safe = auto_schema.method in ("GET", "HEAD", "OPTIONS")
        if getattr(view, "public_read", False) and safe:
            return [{self.name: []}, {}]
        return {self.name: [scope(view.scope_family, READ if safe else WRITE)]}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "Identifiants client OAuth2 (client credentials) créés par l'équipe Sicoval ou le référent de votre "
                "structure, page « Accès à l'API ». Jetons valables une heure au plus."
            ),
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": SCOPES}},
        }


class ScopedRelatedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "sicoval_numerique.api.partner.ScopedRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "uuid"}
