"""The partner API of the workshops: programmes (``/ateliers/``), their sessions (``/seances/``, with cancellation and
attendance) and registrations (``/inscriptions/``), scoped to the calling client's structure (see ``selectors``)."""
