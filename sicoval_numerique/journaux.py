"""No personal data of the public in logs and error reports.

The public leaves personal data in requests (a workshop registration posts a name, an e-mail address, a phone
number) and holds capability links (the confirmation and cancellation links of a registration, a shared statistics
page): whoever reads a log line must learn neither. Three layers, from the narrowest to the widest:

- ``PersonalDataReporterFilter`` (``DEFAULT_EXCEPTION_REPORTER_FILTER``): an error report shows the names of the POST
  and query string parameters, never their values, and the request's headers masked;
- ``PersonalDataExceptionReporter`` (``DEFAULT_EXCEPTION_REPORTER``): the report's whole text (exception message,
  URL, frames) goes through ``mask_personal_data`` before it is shown or e-mailed to ADMINS;
- ``PersonalDataFilter``, a logging filter on the console and mail_admins handlers (``LOGGING``): every message is
  masked the same way, its arguments and traceback included.

gunicorn's access log uses ``redact_path`` and ``redact_url`` (``gunicorn.conf.py``). The functions below need no
Django settings, so that gunicorn can use them.
"""

import logging
import re

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

EMAIL_MASK = "[e-mail]"
PHONE_MASK = "[téléphone]"
TOKEN_MASK = "[jeton]"  # noqa: S105 - the mark that replaces a token, not a secret
VALUE_MASK = "********************"  # Django's own substitute, so that a report reads the same everywhere

# An address, also URL-encoded (%40) as it appears in a query string.
EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# A French number: 0 then 9 digits, or +33 / 0033 (and the "(0)" some people add) then 9 digits; in pairs separated
# by spaces, dots or dashes, or not. Not inside a longer run of digits or letters (an id, a SIRET, a UUID).
PHONE_RE = re.compile(r"(?<![\w+])(?:(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?![\w])")
# The paths whose segment after the prefix is a capability: whoever has the link may act (cancel a registration,
# confirm an e-mail address, reset a password) or read (shared statistics). tests/sicoval_numerique/test_journaux.py
# fails when a route with a token is added to the URLs and not here.
CAPABILITY_PREFIXES = (
    "/ateliers/inscription/",
    "/ateliers/annulation/",
    "/activites/statistiques/partage/",
    "/comptes/confirm-email/",
    "/comptes/password/reset/key/",
)
CAPABILITY_RE = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in CAPABILITY_PREFIXES) + r")(?!done/)[^/?#\s\"'<>]+"
)


def redact_path(path):
    """``path`` with the capability tokens it holds replaced by a mark: ``/ateliers/annulation/[jeton]/``."""
    return CAPABILITY_RE.sub(lambda match: match.group(1) + TOKEN_MASK, path)


def redact_url(url, keep_query=True):
    """``url`` (a path, or an absolute URL) with its tokens redacted and the values of its query string masked, or
    its query string dropped when ``keep_query`` is false."""
    base, question, query = url.partition("?")
    base = mask_personal_data(redact_path(base))
    if not question or not keep_query:
        return base
    names = [parameter.partition("=")[0] for parameter in query.split("&")]
    return base + "?" + "&".join(f"{mask_personal_data(name)}={VALUE_MASK}" for name in names if name)


def mask_personal_data(text):
    """``text`` with its e-mail addresses, French phone numbers and capability tokens masked."""
    if not text:
        return text
    text = EMAIL_RE.sub(EMAIL_MASK, text)
    text = PHONE_RE.sub(PHONE_MASK, text)
    return redact_path(text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a log record before a handler writes or sends it: the message once formatted with its
    arguments (which then become part of the message), the traceback and the stack. Never drops a record."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is for logging to report, not for us to drop
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Formatted now (as the handler's formatter would) so that the masked text is what gets written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Django's filter for error reports (settings, cookies, marked variables), which also hides the value of every
    POST and query string parameter, whatever the view, and masks the request's headers. The names stay: they say
    which form failed. Applied whether DEBUG is on or not: the report of a test server is no place for data either."""

    def is_active(self, request):
        return True

    def _masked(self, multivaluedict):
        masked = multivaluedict.copy()
        for key in masked:
            masked.setlist(key, [VALUE_MASK])
        return masked

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self._masked(request.POST)

    def get_query_parameters(self, request):
        if request is None:
            return {}
        return self._masked(request.GET)

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        # request.POST or request.GET held in a frame's local variable.
        return self._masked(multivaluedict)

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key, value in meta.items():
            if key == "QUERY_STRING" and value:
                meta[key] = redact_url("?" + value)[1:]
            elif key in ("HTTP_REFERER", "RAW_URI", "REQUEST_URI") and isinstance(value, str):
                meta[key] = redact_url(value)
            elif isinstance(value, str):
                meta[key] = mask_personal_data(value)
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        # The DEBUG page shows the frames' local variables: a view's token argument (``token``, ``key``, or in
        # ``callback_kwargs``) is hidden the way settings are, by name; texts are masked.
        return [
            (name, self._cleansed_variable(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _cleansed_variable(self, name, value):
        if isinstance(value, str):
            return self.cleansed_substitute if self.hidden_settings.search(name) else mask_personal_data(value)
        if isinstance(value, dict):
            return self.cleanse_setting(name, value)
        return value


class PersonalDataExceptionReporter(ExceptionReporter):
    """Django's error report (the DEBUG page, the e-mail to ADMINS) without the query string values, and whose text
    is masked as a whole: what the filter cannot see (an exception message quoting an address, a path with a token)
    is masked there."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            # self.filter may be a view's own (request.exception_reporter_filter): the query string is masked anyway.
            data["request_GET_items"] = PersonalDataReporterFilter().get_query_parameters(self.request).items()
            data["request_insecure_uri"] = redact_url(data["request_insecure_uri"])
        return data

    def get_traceback_text(self):
        return mask_personal_data(super().get_traceback_text())

    def get_traceback_html(self):
        return mask_personal_data(super().get_traceback_html())
