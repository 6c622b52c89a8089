"""The partner API of the funding: ``/api/v1/conventions/`` (read, scope ``postes:read``)."""
