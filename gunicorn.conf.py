"""gunicorn's settings, read from the working directory (the image's /app, the benchmarks' server); the command line
gives the others (Dockerfile, benchmarks/outils.py)."""


def post_worker_init(worker):
    # Once the worker has loaded the application: the objects it keeps are frozen out of the garbage collector's
    # full collections (sicoval_numerique.memoire).
    from sicoval_numerique.memoire import figer

    figer()
