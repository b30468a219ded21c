"""Headless notebook execution that neither stalls on widget output nor hides a stall.

Issue #10. Every headless execution of a chapter (nbmake, the book build, the
reproducibility test, ``benchmarks/stress.py``) drives the kernel with
:class:`nbclient.NotebookClient`. When a cell displays into an
``ipywidgets.Output`` (the live controls of ``explainer.widgets``), nbclient's
stand-in for the front end (``nbclient.output_widget.OutputWidget``) echoes the
widget's new state back to the kernel as a ``comm_msg`` on the *shell* socket.
It sends it through ``Session.send``, which turns the client's ``zmq.asyncio``
socket into a plain shadow socket and sends raw. A raw send makes libzmq process
the socket's pending commands, which drains the socket's edge-triggered
``ZMQ_FD``; pyzmq's asyncio poller never saw that send, so it does not re-check
the socket. If the kernel's ``execute_reply`` landed in that window (the kernel
sends it right after the cell's last display), the reply sits unread while
nbclient awaits it: the kernel is idle, the client waits. Only the per-cell
timeout ends the wait, and then pyzmq's poller does one level-triggered
``poll(0)``, finds the reply and nbclient carries on as if nothing happened.

Upstream: jupyter/nbclient#312 (open; its PR #311 unmerged) and
jupyter/jupyter_client#1059 (unmerged; removing the shadow send there has its
own problems). No released nbclient/jupyter_client combination avoids it, so no
pin helps; pyzmq re-arms its poller after sends made *through* the asyncio socket
(zeromq/pyzmq#1208), which is what :func:`install` makes nbclient do.

:func:`install` does three things, once per process:

* **fix**: ``OutputWidget`` sends its ``comm_msg`` through the asyncio socket
  (``send_multipart`` on the ``zmq.asyncio.Socket``), so the poller is re-armed
  and a reply that arrived meanwhile is read at once;
* **guard**: a cell whose reply only arrived when its timeout ran out raises
  :class:`nbclient.exceptions.CellTimeoutError` naming the cell, instead of
  nbclient's silent continuation. A stall is a loud failure, never a slow pass;
* **ipc**: the kernels nbclient starts talk over Unix sockets in a private folder,
  not TCP ports. Over TCP, jupyter_client picks five free ports per kernel by binding
  port 0 and releasing it; kernels started at the same moment by other processes
  (the book build's parallel workers, two pytest workers) can be handed the same port,
  and one kernel dies with "Address already in use" (seen in a ``make book`` with
  three workers: "Kernel died before replying to kernel_info"). A socket file has a
  name of its own, so nothing is shared.

It is loaded by the root ``conftest.py`` (nbmake and every test), by
``benchmarks/stress.py``, and in the book build as a Sphinx extension
(``setup``).
"""

from __future__ import annotations

import atexit
import functools
import logging
import shutil
import tempfile
import time
import uuid
from typing import Any

__all__ = ["CELL_TIMEOUT", "install", "installed", "setup"]

#: Seconds one chapter cell may take in headless execution. Every chapter cell runs
#: in seconds: the slowest, each chapter's first cell (imports, shipped weights), takes
#: 3-8 s on a quiet 2-core machine and up to 37 s at a load average of 8 (issue #10's
#: stress runs). Keep in step with ``NBMAKE_TIMEOUT`` in the Makefile and
#: ``execute.timeout`` in ``_config.yml``.
CELL_TIMEOUT = 90

_log = logging.getLogger(__name__)
_clock = time.monotonic  # a seam for the tests
_installed: dict[str, bool] = {"fix": False, "guard": False, "ipc": False}


def installed() -> dict[str, bool]:
    """Which parts of :func:`install` are active in this process."""
    return dict(_installed)


def _send_on_shell(kernel_client: Any, msg: dict[str, Any]) -> None:
    """Send ``msg`` on the shell channel through its asyncio socket (re-arms pyzmq's poller)."""
    import zmq.asyncio

    socket = kernel_client.shell_channel.socket
    if not isinstance(socket, zmq.asyncio.Socket):  # a blocking client polls level-triggered
        kernel_client.shell_channel.send(msg)
        return
    frames = kernel_client.session.serialize(msg)
    sent = socket.send_multipart(frames)  # resolves now unless the socket is at its HWM

    def _report(future: Any) -> None:
        if not future.cancelled() and future.exception() is not None:
            _log.error("comm_msg to the kernel failed: %r", future.exception())

    sent.add_done_callback(_report)


def _install_fix() -> None:
    from nbclient.jsonutil import json_clean
    from nbclient.output_widget import OutputWidget

    if not hasattr(OutputWidget, "_publish_msg"):  # nbclient changed: look again, loudly
        raise RuntimeError("nbclient.output_widget.OutputWidget._publish_msg is gone; "
                           "re-check issue #10's workaround in explainer.execution")

    def _publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        # nbclient's own body, but sent through the asyncio socket (see the module docstring)
        data = {} if data is None else data
        metadata = {} if metadata is None else metadata
        content = json_clean(dict(data=data, comm_id=self.comm_id, **keys))
        msg = self.kernel_client.session.msg(
            msg_type, content=content, parent=self.parent_header, metadata=metadata)
        _send_on_shell(self.kernel_client, msg)

    _publish_msg.__explainer_issue_10__ = True
    OutputWidget._publish_msg = _publish_msg


def _install_guard() -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError
    from nbclient.util import run_sync

    original = NotebookClient.async_execute_cell

    @functools.wraps(original)
    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        if cell.cell_type != "code":
            return await original(self, cell, cell_index, *args, **kwargs)
        start = _clock()
        result = await original(self, cell, cell_index, *args, **kwargs)
        timeout = self._get_timeout(cell)
        if timeout is not None and _clock() - start >= timeout:
            # the reply was only found by the timeout's last look: treat it as never
            # received (so nbmake's report points at this cell) and fail loudly
            cell.metadata.get("execution", {}).pop("shell.execute_reply", None)
            raise CellTimeoutError.error_from_timeout_and_cell(
                f"cell {cell_index} got its reply only when its {timeout} s timeout ran out "
                "(a missed ZMQ wake-up or a cell far slower than usual; see issue #10)",
                timeout, cell)
        return result

    async_execute_cell.__explainer_issue_10__ = True
    NotebookClient.async_execute_cell = async_execute_cell
    NotebookClient.execute_cell = run_sync(async_execute_cell)


def _install_ipc() -> None:
    from nbclient import NotebookClient

    original = NotebookClient.create_kernel_manager
    folder: list[str] = []  # this process's socket folder, made on first use

    @functools.wraps(original)
    def create_kernel_manager(self):
        km = original(self)
        if km.transport == "tcp" and not km.has_kernel:
            if not folder:
                folder.append(tempfile.mkdtemp(prefix="explainer-kernels-"))
                atexit.register(shutil.rmtree, folder[0], ignore_errors=True)
            km.transport = "ipc"
            km.ip = f"{folder[0]}/{uuid.uuid4().hex[:12]}"  # sockets <ip>-1 ... <ip>-5
        return km

    create_kernel_manager.__explainer_ipc__ = True
    NotebookClient.create_kernel_manager = create_kernel_manager


def install(*, fix: bool = True, guard: bool = True, ipc: bool = True) -> None:
    """Patch nbclient in this process (idempotent). See the module docstring.

    Args:
        fix: send ``OutputWidget`` comm messages through the asyncio socket.
        guard: turn a reply that only arrived at the per-cell timeout into a
            :class:`~nbclient.exceptions.CellTimeoutError` naming the cell.
        ipc: start kernels on Unix sockets instead of TCP ports.
    """
    if fix and not _installed["fix"]:
        _install_fix()
        _installed["fix"] = True
    if guard and not _installed["guard"]:
        _install_guard()
        _installed["guard"] = True
    if ipc and not _installed["ipc"]:
        _install_ipc()
        _installed["ipc"] = True


def setup(app: Any) -> dict[str, Any]:
    """Sphinx extension entry point: patch nbclient before myst-nb executes chapters."""
    install()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
