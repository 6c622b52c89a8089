"""The partner API of the posts: ``/api/v1/postes/`` (read, scope ``postes:read``)."""
