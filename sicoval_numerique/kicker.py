"""Starting a Celery task right after a commit without ever holding the request on the broker.

``TaskKicker(task_path, …).kick()`` publishes the task from one background thread per process. Kicks made while a
publication is under way are folded into one more publication after it, so a broker that is down or hung holds one
thread, never one per request. A publication that fails is only logged: the beat entry of the same task runs it
within a minute once the broker is back. Without a broker (quick start, tests) ``run`` executes the task inline.
"""

import importlib
import logging
import os
import threading

logger = logging.getLogger(__name__)


def _task(path):
    module, _dot, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class TaskKicker:
    def __init__(self, task_path, *, expires, label, thread_name):
        """``task_path``: the task's dotted import path (imported late: tasks import their services); ``expires``:
        seconds after which a worker drops a publication nobody took (beat has run the task since); ``label``: what
        the task does, for the log; ``thread_name``: the publishing thread's name."""
        self.task_path = task_path
        self.thread_name = thread_name
        self.expires = expires
        self.label = label
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)  # a forked worker starts with no publication under way

    def _reset(self):
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self.thread = None

    def run(self):
        """Run the task now: inline without a broker; otherwise published from the background thread (returned)."""
        task = _task(self.task_path)
        if task.app.conf.task_always_eager:
            task.apply()
            return None
        return self.kick()

    def kick(self):
        with self._lock:
            if self._running:
                self._again = True
                return self.thread
            self._running = True
            self._again = False
            thread = threading.Thread(target=self._publish, name=self.thread_name, daemon=True)
            self.thread = thread
        try:
            thread.start()
        except RuntimeError:  # no thread left: beat will run it
            with self._lock:
                self._running = False
            logger.warning("%s non lancé (fil indisponible) ; le beat le relancera.", self.label)
            return None
        return thread

    def _publish(self):
        task = _task(self.task_path)
        while True:
            try:
                task.apply_async(retry=False, expires=self.expires)
            except Exception as error:  # the broker is down or hung: beat runs the task once it is back
                with self._lock:
                    self._running = self._again = False
                logger.warning(
                    "%s non lancé : courtier injoignable (%s) ; le beat le relancera.", self.label, type(error).__name__
                )
                return
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


def publier(task_path, *args, label):
    """Start one run of a task for one object (a report, an import): inline without a broker (quick start, tests),
    else published from a short-lived background thread, so that a hung broker never holds the request. A failed
    publication only logs: the task's sweeper (beat) picks up what was left waiting."""
    task = _task(task_path)
    if task.app.conf.task_always_eager:
        task.apply(args=args)
        return None

    def publish():
        try:
            task.apply_async(args=args, retry=False)
        except Exception as error:  # broker down or hung: the sweeper runs it
            logger.warning("%s non publié (%s) ; il sera relancé.", label, type(error).__name__)

    thread = threading.Thread(target=publish, name=f"publier-{task.name}", daemon=True)
    thread.start()
    return thread
