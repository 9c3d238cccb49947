"""Getting queued check runs to the workers whatever happens to the broker: the relay
that sends them and the reaper that finds the ones a broker or a worker lost.

Each CheckRun row is its own outbox entry. Its task is sent only after the row is
committed, and `published_at` records that it was; a send the broker refuses leaves it
empty for the relay (beat, every minute) to try again. A run that then never finishes
(Redis restarted empty, a worker killed with no message left to deliver again) is
taken back by the reaper and sent again, a bounded number of times.

In the embedded default there is neither broker nor reaper: "Check now" hands the runs to
a thread of the web process, marking each with that process's delivery (THREAD_DELIVERY
and its own suffix). A run marked by another process was left when its web process
stopped, and is taken back the same way when its case is next opened
(check_runs_orphaned_take_back); embedded mode serves from one process.
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
    *,
    send: Callable[[int], None],
    ids: Iterable[int] | None = None,
    limit: int | None = None,
    delivery: str = "",
) -> Published:
    """Send the queued runs not yet sent (these ids, or all of them oldest first).

    Each run is marked sent by a conditional UPDATE before its task is handed over, so
    two relays never send one run twice. A send the broker refuses is unmarked and the
    pass stops there: the broker is down for the rest too, and they wait for the relay.
    A send that never returns (the process killed) leaves the run marked sent, which the
    reaper finds. Broker errors are reported, never raised. `delivery` marks the runs
    handed to this process's threads (embedded mode) as theirs.
    """
    marks = {"delivery": delivery} if delivery else {}
    waiting = CheckRun.objects.filter(status=CheckRun.Status.QUEUED, published_at__isnull=True)
    if ids is not None:
        waiting = waiting.filter(id__in=list(ids))
    todo = list(waiting.order_by("queued_at", "id").values_list("id", flat=True)[:limit])
    sent = 0
    for check_run_id in todo:
        stamp = timezone.now()
        mine = CheckRun.objects.filter(
            id=check_run_id, status=CheckRun.Status.QUEUED, published_at__isnull=True
        ).update(published_at=stamp, **marks)
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
    sent again (_take_back). A stranded run may have filed the leads of the spans it
    read (each with its period); sending it again resumes after them, and leads are
    unique per case, source and external id, so nothing is filed twice.
    """
    deadline = now - settings.WISHLIST_CHECK_STALE_AFTER
    stranded = Q(status=CheckRun.Status.RUNNING, claimed_at__lt=deadline)
    if queue_idle:
        stranded |= Q(status=CheckRun.Status.QUEUED, published_at__lt=deadline)
    ids, gave_up = _take_back(
        CheckRun.objects.filter(stranded),
        now=now,
        why="its worker stopped, or the broker lost its task",
    )
    if ids or gave_up:
        logger.warning("Stranded checks: %d sent again, %d given up", len(ids), gave_up)
    return Reaped(requeued=len(ids), gave_up=gave_up)


# The deliveries of runs handed to a thread of a web process (embedded mode) start so.
THREAD_DELIVERY = "thread-"


def check_runs_orphaned_take_back(*, case_id: int, this_process: str, now: datetime) -> list[int]:
    """Embedded mode: take back the case's runs handed to a thread of a web process other
    than this one (`this_process`, the start of its deliveries) and never finished. That
    process stopped (a restart, a reload of the development server), and its threads
    with it; nothing else would ever run them, and "Check now" would stay refused as long
    as they look queued. Returns the ids sent back to the queue, for this process's
    threads to run; counted and bounded as the reaper's."""
    orphaned = CheckRun.objects.filter(
        case_id=case_id,
        status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING],
        delivery__startswith=THREAD_DELIVERY,
    ).exclude(delivery__startswith=this_process)
    requeued, gave_up = _take_back(
        orphaned, now=now, why="the web process running it stopped before it finished"
    )
    if requeued or gave_up:
        logger.warning(
            "Checks of a stopped web process: %d sent again, %d given up", len(requeued), gave_up
        )
    return requeued


def _take_back(runs, *, now: datetime, why: str) -> tuple[list[int], int]:
    """Send these unfinished runs back to the queue, counting an attempt (a delivery
    counts its own when it claims the run), or end them as errors after
    WISHLIST_CHECK_MAX_ATTEMPTS. Each change is a conditional UPDATE: a worker that takes
    the run meanwhile keeps it. Returns the ids requeued and how many were given up."""
    most = settings.WISHLIST_CHECK_MAX_ATTEMPTS
    requeued: list[int] = []
    gave_up = 0
    for run in runs.values("id", "status", "attempts", "claimed_at", "published_at"):
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
                error=f"gave up after {attempts} attempts: the check never finished ({why})",
            )
        elif unchanged.update(
            status=CheckRun.Status.QUEUED, attempts=attempts, published_at=None, delivery=""
        ):
            requeued.append(run["id"])
    return requeued, gave_up
