"""Getting queued check runs to the workers whatever happens to the broker: the relay
that sends them and the reaper that finds the ones a broker or a worker lost.

Each CheckRun row is its own outbox entry. Its task is sent only after the row is
committed, and `published_at` records that it was; a send the broker refuses leaves it
empty for the relay (beat, every minute) to try again. A run that then never finishes
(Redis restarted empty, a worker killed with no message left to deliver again) is
taken back by the reaper and sent again, a bounded number of times.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import ChannelError, KombuError
from redis.exceptions import RedisError

from cases.models import CheckRun

logger = logging.getLogger(__name__)

# What a send raises when the broker cannot be reached: kombu's OperationalError once its
# retries are spent, the Redis client's errors, or a socket's.
BROKER_ERRORS = (KombuError, ChannelError, RedisError, OSError)


def broker_failure(exc: BaseException) -> str:
    """A one-line reason a broker refused, for a message or a log."""
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


@dataclass(frozen=True)
class Published:
    sent: int
    unsent: int  # left for the relay
    error: str = ""  # why the broker refused, when it did


def check_runs_publish(
    *, send: Callable[[int], None], ids: Iterable[int] | None = None, limit: int | None = None
) -> Published:
    """Send the queued runs not yet sent (these ids, or all of them oldest first).

    Each run is marked sent by a conditional UPDATE before its task is handed over, so
    two relays never send one run twice. A send the broker refuses is unmarked and the
    pass stops there: the broker is down for the rest too, and they wait for the relay.
    A send that never returns (the process killed) leaves the run marked sent, which the
    reaper finds. Broker errors are reported, never raised.
    """
    waiting = CheckRun.objects.filter(status=CheckRun.Status.QUEUED, published_at__isnull=True)
    if ids is not None:
        waiting = waiting.filter(id__in=list(ids))
    todo = list(waiting.order_by("queued_at", "id").values_list("id", flat=True)[:limit])
    sent = 0
    for check_run_id in todo:
        stamp = timezone.now()
        mine = CheckRun.objects.filter(
            id=check_run_id, status=CheckRun.Status.QUEUED, published_at__isnull=True
        ).update(published_at=stamp)
        if not mine:
            continue  # another relay sent it first
        try:
            send(check_run_id)
        except BROKER_ERRORS as exc:
            CheckRun.objects.filter(id=check_run_id, published_at=stamp).update(published_at=None)
            error = broker_failure(exc)
            unsent = CheckRun.objects.filter(
                id__in=todo, status=CheckRun.Status.QUEUED, published_at__isnull=True
            ).count()
            logger.warning("The check queue is unreachable (%s); %d run(s) wait", error, unsent)
            return Published(sent=sent, unsent=unsent, error=error)
        sent += 1
    return Published(sent=sent, unsent=0)


@dataclass(frozen=True)
class Reaped:
    requeued: int
    gave_up: int


def check_runs_reap(*, now: datetime, queue_idle: bool) -> Reaped:
    """Take back the runs stranded for longer than WISHLIST_CHECK_STALE_AFTER.

    A run still running that long lost its worker (the deadline exceeds the hard time
    limit) and no message is left to deliver it again; one sent that long ago and never
    taken lost its message, but only if no message waits in the broker (`queue_idle`):
    in a long backlog it is merely waiting its turn. Each goes back to the outbox to be
    sent again, counting an attempt (a delivery counts its own when it claims the run),
    and after WISHLIST_CHECK_MAX_ATTEMPTS it ends as an error instead. A stranded run
    may have filed the leads of the spans it read (each with its period); sending it
    again resumes after them, and leads are unique per case, source and external id, so
    nothing is filed twice. Each change is a conditional UPDATE: a worker that takes the
    run meanwhile keeps it.
    """
    deadline = now - settings.WISHLIST_CHECK_STALE_AFTER
    most = settings.WISHLIST_CHECK_MAX_ATTEMPTS
    stranded = Q(status=CheckRun.Status.RUNNING, claimed_at__lt=deadline)
    if queue_idle:
        stranded |= Q(status=CheckRun.Status.QUEUED, published_at__lt=deadline)
    requeued = gave_up = 0
    runs = CheckRun.objects.filter(stranded).values(
        "id", "status", "attempts", "claimed_at", "published_at"
    )
    for run in runs:
        unchanged = CheckRun.objects.filter(
            id=run["id"],
            status=run["status"],
            claimed_at=run["claimed_at"],
            published_at=run["published_at"],
        )
        attempts = run["attempts"] + (run["status"] == CheckRun.Status.QUEUED)
        if attempts >= most:
            gave_up += unchanged.update(
                status=CheckRun.Status.ERROR,
                attempts=attempts,
                finished_at=now,
                error=f"gave up after {attempts} attempts: the check never finished "
                "(its worker stopped, or the broker lost its task)",
            )
        else:
            requeued += unchanged.update(
                status=CheckRun.Status.QUEUED, attempts=attempts, published_at=None, delivery=""
            )
    if requeued or gave_up:
        logger.warning("Stranded checks: %d sent again, %d given up", requeued, gave_up)
    return Reaped(requeued=requeued, gave_up=gave_up)
