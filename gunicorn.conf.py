"""gunicorn's settings, read from the working directory (the image's /app, the benchmarks' server); the command line
gives the others (Dockerfile, benchmarks/outils.py)."""

from gunicorn.glogging import Logger


class AccessLogger(Logger):
    """gunicorn's logger, whose access log lines hold no personal data of the public: the request line and the
    referrer lose their query string (a search, a pre-filled e-mail address…), and the capability tokens of links
    (a registration's cancellation link, a shared statistics page) are replaced by a mark. The line keeps gunicorn's
    default format (``access_log_format``)."""

    def atoms(self, resp, req, environ, request_time):
        # Imported here, in the worker, where the application has loaded Django already.
        from sicoval_numerique.journaux import redact_path, redact_url

        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path((environ.get("RAW_URI") or environ.get("PATH_INFO") or "").partition("?")[0])
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path} {environ['SERVER_PROTOCOL']}"
        atoms["U"] = path
        atoms["q"] = "-"
        referrer = redact_url(environ["HTTP_REFERER"], keep_query=False) if environ.get("HTTP_REFERER") else "-"
        atoms["f"] = atoms["{referer}i"] = referrer
        return atoms


logger_class = AccessLogger


def post_worker_init(worker):
    # Once the worker has loaded the application: the objects it keeps are frozen out of the garbage collector's
    # full collections (sicoval_numerique.memoire).
    from sicoval_numerique.memoire import figer

    figer()
