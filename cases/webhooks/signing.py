"""How a delivery is signed, and how a receiver checks it (pure functions).

The signature is HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret, sent as
`X-Wishlist-Signature: sha256=<hex>` beside `X-Wishlist-Timestamp`. Signing the timestamp
with the body lets a receiver refuse an old delivery replayed later; comparing in constant
time keeps the secret from leaking through timing.
"""

import hashlib
import hmac
import json

SIGNATURE_HEADER = "X-Wishlist-Signature"
TIMESTAMP_HEADER = "X-Wishlist-Timestamp"
EVENT_HEADER = "X-Wishlist-Event"
DELIVERY_HEADER = "X-Wishlist-Delivery"


def body_bytes(payload: dict) -> bytes:
    """The exact bytes sent: sorted keys and no spaces, so a retry sends the same body
    whatever order the database gave the JSON back in."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: int, body: bytes, header: str, *, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
