"""Delivery of outbox messages: webhooks (signed HTTP POST, keep-alive) and AMQP (RabbitMQ
topic exchange, publisher confirms). A transport delivers a subscriber's messages in order
and stops at the first sign that the receiver is unavailable."""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pika
import pika.exceptions
import urllib3
from pika.adapters.blocking_connection import BlockingChannel

from app.domain.routing import DeliveryResult, classify_status, sign

log = logging.getLogger("csw.routing")

# Header names documented in the README (routing section).
HEADER_SIGNATURE = "X-CSW-Signature"
HEADER_TIMESTAMP = "X-CSW-Timestamp"
HEADER_IDEMPOTENCY = "Idempotency-Key"
HEADER_MESSAGE_TYPE = "X-CSW-Message-Type"
HEADER_SUBJECT = "X-CSW-Subject"
HEADER_ATTEMPT = "X-CSW-Attempt"


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    idempotency_key: str
    message_type: str
    subject: str
    routing_key: str
    content_type: str
    body: bytes
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Target:
    """What a transport needs of a subscriber."""

    id: int
    name: str
    url: str | None
    exchange: str | None
    secret: str


@dataclass(frozen=True, slots=True)
class Attempt:
    message_id: int
    result: DeliveryResult
    detail: str | None = None


class Transport(Protocol):
    def deliver(self, target: Target, messages: Sequence[Outgoing], deadline: float | None = None) -> list[Attempt]:
        """One attempt per message, in order; stops after the first UNAVAILABLE, and before
        the next message once ``time.monotonic()`` passes ``deadline`` (the dispatcher's lease
        must not run out mid-call). A message whose subject had a REFUSED attempt earlier in
        the call is skipped (no attempt), so it stays behind the refused one."""

    def close(self) -> None: ...


class WebhookTransport:
    """HTTP(S) POST per message over a keep-alive connection pool (urllib3, the engine under
    requests, used directly: half the per-request overhead)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._pool = urllib3.PoolManager(num_pools=50, maxsize=2, retries=False,
                                         timeout=urllib3.Timeout(connect=min(3.0, timeout_seconds),
                                                                 read=timeout_seconds))

    def deliver(self, target: Target, messages: Sequence[Outgoing], deadline: float | None = None) -> list[Attempt]:
        attempts: list[Attempt] = []
        refused: set[str] = set()
        assert target.url
        for message in messages:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if message.subject in refused:
                continue
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": message.content_type,
                HEADER_TIMESTAMP: timestamp,
                HEADER_SIGNATURE: sign(target.secret, timestamp, message.body),
                HEADER_IDEMPOTENCY: message.idempotency_key,
                HEADER_MESSAGE_TYPE: message.message_type,
                HEADER_SUBJECT: message.subject,
                HEADER_ATTEMPT: str(message.attempts + 1),
                "User-Agent": "csw-dispatcher/1",
            }
            try:
                response = self._pool.request("POST", target.url, body=message.body, headers=headers,
                                              preload_content=True, redirect=False)
            except urllib3.exceptions.HTTPError as exc:
                attempts.append(Attempt(message.id, DeliveryResult.UNAVAILABLE, f"{type(exc).__name__}: {exc}"[:300]))
                break
            result = classify_status(response.status)
            attempts.append(Attempt(message.id, result, None if result is DeliveryResult.DELIVERED
                                    else f"HTTP {response.status}: {response.data[:200]!r}"))
            if result is DeliveryResult.UNAVAILABLE:
                break
            if result is DeliveryResult.REFUSED:
                refused.add(message.subject)
        return attempts

    def close(self) -> None:
        self._pool.clear()


class AmqpTransport:
    """Publishes to a topic exchange with publisher confirms (pika): a message counts as
    delivered only when the broker has confirmed it and routed it to at least one queue
    (``mandatory``); an unroutable message means the receiver's queue is missing."""

    def __init__(self, default_url: str, default_exchange: str) -> None:
        self._default_url = default_url
        self._default_exchange = default_exchange
        self._channels: dict[tuple[str, str], tuple[pika.BlockingConnection, BlockingChannel]] = {}

    def _channel(self, url: str, exchange: str) -> BlockingChannel:
        key = (url, exchange)
        if key not in self._channels:
            connection = pika.BlockingConnection(pika.URLParameters(url))
            channel = connection.channel()
            channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
            channel.confirm_delivery()
            self._channels[key] = (connection, channel)
        return self._channels[key][1]

    def _drop(self, key: tuple[str, str]) -> None:
        connection, _ = self._channels.pop(key, (None, None))
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.close()

    def deliver(self, target: Target, messages: Sequence[Outgoing], deadline: float | None = None) -> list[Attempt]:
        url = target.url or self._default_url
        exchange = target.exchange or self._default_exchange
        attempts: list[Attempt] = []
        try:
            channel = self._channel(url, exchange)
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._drop((url, exchange))
            return [Attempt(messages[0].id, DeliveryResult.UNAVAILABLE, f"AMQP connect: {type(exc).__name__}")] \
                if messages else []
        for message in messages:
            if deadline is not None and time.monotonic() >= deadline:
                break
            properties = pika.BasicProperties(
                content_type=message.content_type, delivery_mode=pika.DeliveryMode.Persistent,
                message_id=message.idempotency_key, type=message.message_type,
                headers={HEADER_SUBJECT: message.subject, HEADER_IDEMPOTENCY: message.idempotency_key})
            try:
                channel.basic_publish(exchange=exchange, routing_key=message.routing_key, body=message.body,
                                      properties=properties, mandatory=True)
            except pika.exceptions.UnroutableError:
                attempts.append(Attempt(message.id, DeliveryResult.UNAVAILABLE,
                                        f"unroutable: no queue bound for {message.routing_key} on {exchange}"))
                break
            except pika.exceptions.NackError:
                attempts.append(Attempt(message.id, DeliveryResult.UNAVAILABLE, "broker refused (nack)"))
                break
            except (pika.exceptions.AMQPError, OSError) as exc:
                self._drop((url, exchange))
                attempts.append(Attempt(message.id, DeliveryResult.UNAVAILABLE, f"AMQP: {type(exc).__name__}"))
                break
            attempts.append(Attempt(message.id, DeliveryResult.DELIVERED))
        return attempts

    def close(self) -> None:
        for key in list(self._channels):
            self._drop(key)
