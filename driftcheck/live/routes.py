"""API paths. Every ID is percent-encoded as one path segment, so no ID can change the path
or the query that is requested (``../x``, ``a/b?c``)."""

from __future__ import annotations

from urllib.parse import quote

ACCOUNT_LIST_PATH = "/v4/model-deployments"


def encode_segment(segment: str) -> str:
    """Percent-encode one path segment so that no ID can change the path or the query.

    ``quote`` leaves ``.`` alone, and a segment that is exactly ``.`` or ``..`` would be removed
    by URL normalization, so those dots are encoded too.
    """
    encoded = quote(segment, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded


def deployment_path(model_instance_id: str, deployment_id: str) -> str:
    mi, dep = encode_segment(model_instance_id), encode_segment(deployment_id)
    return f"/v4/models/{mi}/deployments/{dep}"


def model_list_path(model_instance_id: str) -> str:
    return f"/v4/models/{encode_segment(model_instance_id)}/deployments"
