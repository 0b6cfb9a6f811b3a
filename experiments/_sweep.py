"""The tasks of ``python -m experiments.bounds`` on Dask distributed (``--workers N`` or ``--scheduler ADDRESS``).

Each task (dataset, width, seed) is one Dask future running :func:`experiments.bounds.run_task` unchanged, in a
worker process: it loads its data there (nothing but the task, the settings and the output folder is shipped),
trains with its per-epoch checkpoints in ``OUT/checkpoints/DATASET-width-W-seed-S/`` under the same identity as
the serial path (so ``--resume`` continues a task whichever path wrote its checkpoint), and returns its summary
record to the client, which merges it into ``summary.json`` / ``epochs.csv`` / ``table.md`` as it finishes.

Numbers: a task computes exactly what the serial path computes for it, given the same torch thread count (the
last digits of a sum depend on it).  Tasks are therefore pinned to ``--threads`` torch threads, 1 when not given
(the embedded cluster's workers also run numpy's BLAS on 1 thread, Dask's default), and one worker process runs
one task at a time: torch's random generator and thread count are per process.

Where: ``--workers N`` starts an embedded :class:`distributed.LocalCluster` of N worker processes with one thread
each and closes it at the end; ``--scheduler ADDRESS`` connects to an existing scheduler, whose workers must
import this same version of the package and see ``--out`` and ``--data-dir`` at the same paths (a shared file
system; both are sent as absolute paths).  Start such workers with one thread each (``dask worker ADDRESS
--nthreads 1 --nworkers K``): extra threads of a worker only wait for its lock.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._settings import RunSettings, UsageError

if TYPE_CHECKING:
    from .bounds import Task

__all__ = ["CONNECT_TIMEOUT_S", "SweepError", "run_distributed", "sweep_task"]

#: seconds to wait for ``--scheduler ADDRESS`` to answer before giving up (one line, exit 2)
CONNECT_TIMEOUT_S = 10.0
#: seconds allowed to close the client and the embedded cluster (its workers are then terminated)
CLOSE_TIMEOUT_S = 20.0

# one task at a time per worker process: torch.manual_seed and torch.set_num_threads are process-wide
_TASK_LOCK = threading.Lock()


class SweepError(ValueError):
    """A task could not finish on the cluster for a reason of the cluster's (its worker died, it was cancelled
    by someone else): one line naming the task, exit code 2.  Errors raised by a task itself (UsageError,
    DataError, CheckpointError, TrainingDiverged, ...) reach the client as themselves, as in the serial path."""


def sweep_task(
    task: Task, s: RunSettings, out: str, resume: bool, keep_epoch_weights: bool
) -> tuple[dict[str, Any], float]:
    """Run one task in this (worker) process: :func:`experiments.bounds.run_task` without progress bars.

    Returns ``(record, seconds)``: the task's summary record and the wall time of ``run_task`` in seconds,
    measured here (not counting the time the task waited for a worker).  Raises whatever ``run_task`` raises.
    """
    from .bounds import run_task

    with _TASK_LOCK:
        t0 = time.perf_counter()
        record = run_task(task, s, Path(out), resume, False, keep_epoch_weights)
        return record, time.perf_counter() - t0


def dask_setup(worker: Any) -> None:
    """Preload hook of the embedded cluster's workers (``worker`` unused).

    Ignores SIGINT, so that Ctrl-C in a terminal (sent to the whole process group) interrupts the client only,
    which then cancels the tasks and closes the cluster, instead of every worker printing its own traceback.
    Gives tqdm a thread lock instead of its default multiprocessing one: a worker stopped in the middle of a task
    would otherwise leave that semaphore behind, and Python's resource tracker would warn about it on stderr.
    """
    import signal

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _shipped_settings(s: RunSettings) -> RunSettings:
    """The settings sent to the workers: torch threads pinned (1 unless ``--threads``) and the data folder made
    absolute (``--data-dir``, else the client's ``$MBP_DATA_DIR``), so that a worker with another working
    directory or environment reads the same files.  Neither enters a task's identity or its numbers."""
    from ._data import ENV_VAR

    data_dir = s.data_dir if s.data_dir is not None else (os.environ.get(ENV_VAR) or None)
    if data_dir is not None:
        data_dir = os.path.abspath(os.path.expanduser(os.fspath(data_dir)))
    return s.replace(threads=s.threads or 1, data_dir=data_dir)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _connect(scheduler: str, timeout: float):
    """A client of the scheduler at ``scheduler``; UsageError (one line) for a malformed address or when no
    scheduler answers within ``timeout`` seconds."""
    from distributed import Client
    from distributed.comm.addressing import get_address_host_port, normalize_address, parse_address

    try:  # before Client(): a half-built client of a malformed address hangs in its finaliser
        address = normalize_address(scheduler)
        if parse_address(address)[0] in ("tcp", "tls", "ws", "wss"):
            get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"--scheduler {scheduler} is not a Dask scheduler address ({_first_line(exc)}): give tcp://HOST:PORT"
        ) from None
    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except Exception as exc:  # OSError / TimeoutError when nobody answers, ValueError for a malformed address
        raise UsageError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s ({_first_line(exc)}); "
            "check the address, or use --workers N for a cluster on this machine"
        ) from None


def _start_local(workers: int):
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # a failed task's error reaches the client; no "Compute Failed" blocks
        preload=[__name__],
    )
    try:
        client = Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close(timeout=CLOSE_TIMEOUT_S)
        raise
    return cluster, client


def _describe(client, cluster) -> str:
    nthreads = client.nthreads()  # {worker address: threads}, every worker
    workers, threads = len(nthreads), sum(nthreads.values())
    if cluster is not None:
        return f"an embedded Dask LocalCluster ({workers} worker process(es), 1 thread each)"
    where = f"the Dask scheduler at {client.scheduler.address} ({workers} worker(s), {threads} thread(s))"
    if not workers:
        where += "; no workers yet, the tasks wait for them"
    elif threads > workers:
        where += "; each worker process runs one task at a time (start workers with --nthreads 1)"
    return where


def _close(client, cluster) -> None:
    """Close what :func:`run_distributed` opened; a failure to close is reported on stderr, never raised over
    the error that ended the sweep."""
    for thing in (client, cluster):
        if thing is None:
            continue
        try:
            thing.close(timeout=CLOSE_TIMEOUT_S)
        except Exception as exc:
            print(f"experiments.bounds: closing {type(thing).__name__}: {_first_line(exc)}", file=sys.stderr)


def _task_failure(task: Task, exc: BaseException) -> BaseException:
    """The exception the client raises for a failed future: the task's own exception as it is; a dead worker
    or an outside cancellation as a one-line :class:`SweepError`."""
    from distributed import CancelledError
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return SweepError(
            f"{task.key}: its worker process died {exc.args[2] + 1 if len(exc.args) > 2 else 'repeatedly'} "
            "time(s) while running it (out of memory, or killed); finished tasks are kept, rerun with --resume"
        )
    if isinstance(exc, CancelledError):
        return SweepError(f"{task.key}: cancelled on the cluster (scheduler restarted?); rerun with --resume")
    return exc


def run_distributed(
    tasks: Sequence[Task],
    s: RunSettings,
    out: str | os.PathLike,
    resume: bool,
    keep_epoch_weights: bool = False,
    *,
    scheduler: str | None = None,
    workers: int = 0,
    connect_timeout: float | None = None,
) -> Iterator[tuple[dict[str, Any], float]]:
    """Run ``tasks`` as Dask futures and yield ``(record, seconds)`` as each finishes (in finishing order).

    ``scheduler``: the address of an existing Dask scheduler (``tcp://host:8786``), reached within
    ``connect_timeout`` seconds (default :data:`CONNECT_TIMEOUT_S`); otherwise ``workers`` >= 1 worker processes
    of an embedded LocalCluster, one thread each.  One future per task (``pure=False``), running
    :func:`sweep_task` with the settings of :func:`_shipped_settings` and ``out`` as an absolute path;
    ``record`` is what :func:`experiments.bounds.run_task` returns for the task, ``seconds`` its wall time in the
    worker.  Prints one line on stdout saying where the tasks run.  Whatever ends the iteration (the last task,
    a failure, KeyboardInterrupt, the caller closing the generator), the unfinished futures are cancelled and
    the client and the embedded cluster are closed.

    Raises UsageError (one line) for ``scheduler`` together with ``workers``, for neither, for ``workers`` < 0,
    when ``distributed`` is not installed, and when the scheduler does not answer; a task's own exception
    (UsageError, DataError, CheckpointError, TrainingDiverged, or any other) as the task raised it, after
    cancelling the others; :class:`SweepError` when a task's worker died or the task was cancelled elsewhere.
    No task is submitted, and no cluster started, when ``tasks`` is empty; a task listed twice runs once.
    """
    tasks = list({t.key: t for t in tasks}.values())  # once each: two futures must not share a checkpoint
    if scheduler and workers:
        raise UsageError("--scheduler and --workers exclude each other (the scheduler's cluster has its workers)")
    if not scheduler and (not isinstance(workers, int) or workers < 1):
        raise UsageError(f"--workers must be >= 1 (got {workers})")
    if not tasks:
        return
    try:
        from distributed import as_completed
    except ImportError:
        raise UsageError("--workers/--scheduler need Dask distributed: pip install 'dask[distributed]'") from None

    shipped = _shipped_settings(s)
    out_abs = os.path.abspath(os.fspath(out))
    cluster = client = None
    futures: list = []
    try:
        if scheduler:
            client = _connect(scheduler, CONNECT_TIMEOUT_S if connect_timeout is None else connect_timeout)
        else:
            cluster, client = _start_local(workers)
        print(f"  dask: {len(tasks)} task(s) on {_describe(client, cluster)}", flush=True)
        by_key = {}
        for t in tasks:
            key = f"mbp-{t.dataset}-width-{t.width}-seed-{t.seed}-{uuid.uuid4().hex[:8]}"
            fut = client.submit(sweep_task, t, shipped, out_abs, resume, keep_epoch_weights, key=key, pure=False)
            futures.append(fut)
            by_key[fut.key] = t
        for fut in as_completed(futures, loop=client.loop):
            try:
                record, seconds = fut.result()
            except BaseException as exc:  # the task's error, a dead worker, or Ctrl-C while fetching
                client.cancel(futures)
                if isinstance(exc, Exception):
                    failure = _task_failure(by_key[fut.key], exc)
                    if failure is not exc:
                        raise failure from None
                raise
            yield record, seconds
    except BaseException:  # KeyboardInterrupt, GeneratorExit, a failure: nothing keeps running on our behalf
        if client is not None and futures:
            try:
                client.cancel(futures)
            except Exception:
                pass
        raise
    finally:
        _close(client, cluster)
