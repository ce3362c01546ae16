"""Request signing and webhook signatures against the official vectors."""

from __future__ import annotations

import hashlib
import hmac

from sync_job.tiktok.signing import sign, verify_webhook, webhook_signature

WEBHOOK_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)


def test_official_request_vector() -> None:
    """The signature matches TikTok's published request-signing vector."""
    params = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert (
        sign("/authorization/202309/shops", params, None, "e59af819cc")
        == "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )


def test_official_webhook_vector() -> None:
    """The webhook signature matches TikTok's published vector."""
    assert (
        webhook_signature("abcdef", "123", WEBHOOK_BODY)
        == "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    )


def test_verify_webhook_accepts_only_the_matching_body() -> None:
    """A webhook verifies against its own raw body and fails on a changed one."""
    header = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
    assert verify_webhook("abcdef", "123", WEBHOOK_BODY, header)
    assert not verify_webhook("abcdef", "123", WEBHOOK_BODY + b" ", header)


def test_verify_webhook_refuses_a_non_ascii_or_empty_header_without_raising() -> None:
    """A forged header with non-ASCII characters is simply wrong (compare_digest would raise)."""
    assert not verify_webhook("abcdef", "123", WEBHOOK_BODY, "\xff" * 64)
    assert not verify_webhook("abcdef", "123", WEBHOOK_BODY, "")


def test_sign_and_access_token_and_empty_values_are_ignored() -> None:
    """`sign`, `access_token` and empty values do not change the signature."""
    base = {"app_key": "k", "timestamp": "1"}
    noisy = {**base, "sign": "x", "access_token": "t", "page_token": ""}
    assert sign("/p", noisy, None, "s") == sign("/p", base, None, "s")


def test_params_sorted_path_prepended_body_appended_secret_wrapped() -> None:
    """The signed string is secret + path + sorted key/values + body + secret."""
    params = {"timestamp": "2", "b": "x+/y", "app_key": "k"}
    body = b'{"a":1}'
    message = b"s" + b"/p" + b"app_keykbx+/ytimestamp2" + body + b"s"
    expected = hmac.new(b"s", message, hashlib.sha256).hexdigest()
    assert sign("/p", params, body, "s") == expected


def test_body_changes_the_signature() -> None:
    """The body bytes take part in the signature."""
    params = {"app_key": "k"}
    assert sign("/p", params, b"{}", "s") != sign("/p", params, None, "s")
