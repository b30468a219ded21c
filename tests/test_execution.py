"""Issue #10: headless execution neither stalls on widget output nor hides a stall.

The race is replayed deterministically against a fake kernel (a ROUTER socket):
the client waits for its ``execute_reply`` the way nbclient does, the reply
lands while the event loop is busy, and then the client sends an Output widget's
``comm_msg`` on the same socket. Sent raw (what nbclient does unpatched) the
reply is only found when the wait times out; sent through
:mod:`explainer.execution`'s fix it is read at once.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from types import SimpleNamespace

import nbformat
import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbclient.output_widget import OutputWidget

from explainer import execution

WAIT = 2.0  # seconds the client waits for the reply (nbclient: the per-cell timeout)


async def _reply_latency(send_comm_msg) -> float:
    """Seconds from the client's comm_msg send to its pending ``get_msg`` returning the reply."""
    session = Session(key=b"issue-10")
    kernel = zmq.Context.instance().socket(zmq.ROUTER)
    port = kernel.bind_to_random_port("tcp://127.0.0.1")
    client = zmq.asyncio.Context.instance().socket(zmq.DEALER)
    client.connect(f"tcp://127.0.0.1:{port}")
    shell = AsyncZMQSocketChannel(client, session)
    try:
        shell.send(session.msg("execute_request", content={"code": "w"}))
        idents, request = session.recv(kernel, mode=0)
        while request is None:
            await asyncio.sleep(0.01)
            idents, request = session.recv(kernel, mode=zmq.NOBLOCK)
        waiting = asyncio.ensure_future(shell.get_msg(timeout=WAIT))  # nbclient's reply wait
        await asyncio.sleep(0.05)
        session.send(kernel, "execute_reply", content={"status": "ok"}, parent=request,
                     ident=idents)
        time.sleep(0.1)  # the loop is busy (nbclient handling iopub) while the reply lands
        kc = SimpleNamespace(shell_channel=shell, session=session)
        send_comm_msg(kc, session.msg("comm_msg", content={"comm_id": "c", "data": {}}))
        start = time.monotonic()
        reply = await waiting
        assert reply["msg_type"] == "execute_reply"
        return time.monotonic() - start
    finally:
        client.close(linger=0)
        kernel.close(linger=0)


def test_unpatched_send_strands_the_reply_until_the_timeout():
    """The bug, still present in the installed nbclient/jupyter_client/pyzmq.

    If this fails, upstream fixed it: drop ``explainer.execution``'s fix (keep the guard).
    """
    raw = asyncio.run(_reply_latency(lambda kc, msg: kc.shell_channel.send(msg)))
    assert raw > WAIT - 0.2, f"the reply came after {raw:.2f} s: the raw send no longer strands it"


def test_fixed_send_reads_the_reply_at_once():
    assert asyncio.run(_reply_latency(execution._send_on_shell)) < 0.5


def test_output_widget_sends_through_the_fix():
    execution.install()
    assert getattr(OutputWidget._publish_msg, "__explainer_issue_10__", False)
    sent = []

    class Shell:
        socket = object()  # not an asyncio socket: falls back to the channel's send

        def send(self, msg):
            sent.append(msg)

    kc = SimpleNamespace(shell_channel=Shell(), session=Session(key=b"k"))
    widget = OutputWidget("comm-1", {"outputs": []}, kc, executor=None)
    widget.parent_header = {}
    widget.sync_state()
    assert [(m["msg_type"], m["content"]["comm_id"]) for m in sent] == [("comm_msg", "comm-1")]
    assert sent[0]["content"]["data"] == {"method": "update", "state": {"outputs": []},
                                          "buffer_paths": []}


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_guard_fails_loudly_when_a_reply_only_comes_at_the_timeout(monkeypatch):
    execution.install()
    nb = _notebook("x = 1", "y = 2  # the cell that 'stalls'")
    clock = iter([0.0, 0.5, 100.0, 130.0])  # cell 0 takes 0.5 s, cell 1 takes 30 s
    monkeypatch.setattr(execution, "_clock", lambda: next(clock))
    client = NotebookClient(nb, timeout=20, kernel_name="python3", record_timing=True)
    with pytest.raises(CellTimeoutError) as err:
        client.execute()
    assert "cell 1 got its reply only when its 20 s timeout ran out" in str(err.value)
    assert "y = 2" in str(err.value)  # names the cell by its source
    assert "shell.execute_reply" not in nb.cells[1].metadata.execution  # nbmake points here
    assert nb.cells[0].metadata.execution["shell.execute_reply"]


def test_guard_lets_a_normal_notebook_pass():
    execution.install()
    nb = _notebook("x = 1", "print(x + 1)")
    NotebookClient(nb, timeout=execution.CELL_TIMEOUT, kernel_name="python3").execute()
    assert nb.cells[1].outputs[0]["text"] == "2\n"


def test_kernels_talk_over_unix_sockets_each_of_its_own(tmp_path):
    """Two notebooks executed at once (threads here; processes in the book build and under
    pytest-xdist): each kernel on its own socket files, none on a TCP port, and both run."""
    import threading

    execution.install()
    clients = [NotebookClient(_notebook(f"print({i} * 7)"), timeout=execution.CELL_TIMEOUT,
                              kernel_name="python3") for i in (1, 2)]
    seen = []

    def run(client):
        # while its kernel runs (nbclient drops the kernel manager when it is done)
        client.on_notebook_start = lambda **_: seen.append((client.km.transport, client.km.ip))
        client.execute()

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [c.nb.cells[0].outputs[0]["text"] for c in clients] == ["7\n", "14\n"]
    assert [t for t, _ in seen] == ["ipc", "ipc"]
    assert len({ip for _, ip in seen}) == 2
    assert all(ip.startswith(tempfile.gettempdir()) for _, ip in seen)

