"""SigV4 signing for Bedrock, through botocore when it is installed.

fastsse does not implement SigV4 itself. Without botocore, send Bedrock requests with a
Bedrock API key (``api_key=``, sent as a bearer token) or with headers signed elsewhere
(``headers=``: ``authorization``, ``x-amz-date``, ``x-amz-security-token``, ...).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ._request import HTTPRequest

__all__ = ["sigv4_signer"]

_REGION_IN_HOST = re.compile(r"^https://bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")


def sigv4_signer(
    *, region: str | None = None, credentials: Any = None, service: str = "bedrock"
) -> Callable[[HTTPRequest], HTTPRequest]:
    """A ``signer=`` for ``fastsse.client.Client``: signs each request with AWS SigV4.

    ``credentials``: botocore ``Credentials``, an ``(access_key, secret_key[, session_token])``
    tuple, or None for botocore's default chain (environment, profile, instance role...).
    ``region`` defaults to the one in the Bedrock endpoint's host name.
    """
    try:  # imported by name: botocore is optional and ships no type information
        SigV4Auth = importlib.import_module("botocore.auth").SigV4Auth
        AWSRequest = importlib.import_module("botocore.awsrequest").AWSRequest
        Credentials = importlib.import_module("botocore.credentials").Credentials
        get_session = importlib.import_module("botocore.session").get_session
    except ImportError:
        raise ImportError(
            "SigV4 signing uses botocore (pip install botocore); without it pass a Bedrock API key "
            "(api_key=) or pre-signed headers (headers=)"
        ) from None

    if credentials is None:
        credentials = get_session().get_credentials()
        if credentials is None:
            raise UsageError("no AWS credentials found for SigV4 signing (botocore's default chain is empty)")
    elif isinstance(credentials, tuple):
        credentials = Credentials(*credentials)

    def sign(request: HTTPRequest) -> HTTPRequest:
        region_name = region
        if region_name is None:
            match = _REGION_IN_HOST.match(request.url)
            if match is None:
                raise UsageError(f"cannot tell the AWS region from {request.url!r}: pass region=")
            region_name = match.group(1)
        unsigned = {k: v for k, v in request.headers.items() if k not in ("authorization", "x-amz-date")}
        aws_request = AWSRequest(
            method=request.method, url=request.url, data=request.content(), headers=unsigned
        )
        SigV4Auth(credentials.get_frozen_credentials(), service, region_name).add_auth(aws_request)
        headers = dict(unsigned)
        headers.update((name.lower(), value) for name, value in aws_request.headers.items())
        return HTTPRequest(request.method, request.url, headers, request.body)

    return sign
