"""Drive a real IPython kernel the way JupyterLab or Colab does: execute code, read what the kernel sends
on iopub, and move a widget by sending the comm message a front end sends when a student drags a slider.

No COURSE_HEADLESS and no MPLBACKEND reach the kernel (conftest sets both for everything else), so
`course_lib.widgets` takes its widget path and matplotlib its inline backend, as in a real notebook.
"""
from __future__ import annotations

import base64
import os
import queue
import sys
import time

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def frontend_env(**extra) -> dict:
    """This process's environment as a notebook front end would give it: widgets on, figures inline."""
    env = {k: v for k, v in os.environ.items() if k not in {"COURSE_HEADLESS", "MPLBACKEND"}}
    env.update(extra)
    return env


def python_kernel_spec_manager(python: str):
    """A kernel spec manager whose every kernel runs `python -m ipykernel_launcher` (no installed
    kernelspec can shadow it, whatever `jupyter kernelspec list` says on this machine)."""
    class _Manager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name=f"Python ({python})", language="python")
    return _Manager()


class Kernel:
    """`with Kernel() as k: msgs = k.execute("1 + 1")` -> the iopub messages the code produced."""

    def __init__(self, python: str = sys.executable, env: dict | None = None, cwd: str | None = None):
        self.km = KernelManager(kernel_name="python3", kernel_spec_manager=python_kernel_spec_manager(python))
        self.env = frontend_env() if env is None else env
        self.cwd = cwd

    def __enter__(self):
        kwargs = {"env": self.env}
        if self.cwd:
            kwargs["cwd"] = self.cwd
        self.km.start_kernel(**kwargs)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        return self

    def __exit__(self, *exc):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def _collect(self, msg_id: str, timeout: float) -> list[dict]:
        """iopub messages whose parent is `msg_id`, up to the kernel's 'idle' for it."""
        msgs, deadline = [], time.monotonic() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no 'idle' from the kernel within {timeout} s; got "
                                   f"{[m['msg_type'] for m in msgs]}") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return msgs
            msgs.append(msg)

    def execute(self, code: str, timeout: float = 300) -> list[dict]:
        return self._collect(self.kc.execute(code), timeout)

    def send_comm(self, comm_id: str, data: dict, timeout: float = 120) -> list[dict]:
        """Send what a front end sends on a widget's comm (e.g. a slider's new value)."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)
        return self._collect(msg["header"]["msg_id"], timeout)


def update(kernel: Kernel, comm_id: str, **state) -> list[dict]:
    """Change a control as JupyterLab or Colab does (widget message protocol 2, ipywidgets 7 and 8):
    a slider or checkbox sends its new `value`, a dropdown its new `index`."""
    return kernel.send_comm(comm_id, {"method": "update", "state": state, "buffer_paths": []})


def errors(msgs: list[dict]) -> list[str]:
    """Tracebacks the kernel sent (cell errors and errors shown inside an Output widget)."""
    found = []
    for m in msgs:
        if m["msg_type"] == "error":
            found.append(f"{m['content']['ename']}: {m['content']['evalue']}")
    return found


def pngs(msgs: list[dict]) -> list[bytes]:
    """The PNG images among display_data messages, decoded."""
    return [base64.b64decode(m["content"]["data"]["image/png"]) for m in msgs
            if m["msg_type"] in ("display_data", "execute_result") and "image/png" in m["content"]["data"]]


def widget_views(msgs: list[dict]) -> list[str]:
    """model_ids of the widgets the code displayed."""
    return [m["content"]["data"][WIDGET_VIEW]["model_id"] for m in msgs
            if m["msg_type"] in ("display_data", "execute_result") and WIDGET_VIEW in m["content"]["data"]]


def opened_models(msgs: list[dict]) -> dict[str, dict]:
    """comm_id -> initial state of every widget model the code created."""
    return {m["content"]["comm_id"]: m["content"]["data"].get("state", {}) for m in msgs
            if m["msg_type"] == "comm_open" and m["content"].get("target_name") == "jupyter.widget"}
