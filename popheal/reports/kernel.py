"""Execute notebooks with papermill on a warm, reused Jupyter kernel.

Starting a kernel and importing pandas/geopandas/statsmodels costs seconds per notebook; the analysis itself
is often under one. popheal therefore keeps one kernel per worker process alive across notebooks and PCNs,
registered as the papermill engine ``popheal-warm``: papermill still injects the parameters, records cell
timings and writes the executed notebook (with its error banner on failure), exactly as it would with its
own engine. Before every notebook the kernel's namespace is reset (``%reset -f``), figures closed, matplotlib
defaults restored and the working directory set to the project root, so no state leaks from one notebook or
PCN to the next; imported modules stay loaded (that is the saving).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from pathlib import Path

from jupyter_client import KernelManager
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines

__all__ = ["ENGINE_NAME", "PRELOAD", "WarmKernel", "peak_memory_mb", "shutdown_warm_kernel", "warm_kernel"]

log = logging.getLogger(__name__)

ENGINE_NAME = "popheal-warm"
#: Imported once when a kernel starts, so that notebooks find them loaded.
PRELOAD = (
    "import numpy, pandas, scipy.stats, statsmodels.api, matplotlib, matplotlib.pyplot, seaborn, geopandas, "
    "IPython.display\n"
    "import popheal.reports.notebook\n"
)


def _reset_code(cwd: str) -> str:
    return (
        "get_ipython().run_line_magic('reset', '-f')\n"
        "import os as _os, matplotlib as _mpl, matplotlib.pyplot as _plt\n"
        "_plt.close('all'); _mpl.rcdefaults(); _mpl.use('Agg')\n"
        f"_os.chdir({cwd!r})\n"
        "del _os, _mpl, _plt\n"
        "get_ipython().run_line_magic('reset', '-f')\n"
    )


class WarmKernel:
    """One long-lived IPython kernel, started on first use and restarted if it dies."""

    def __init__(self, cwd: str | os.PathLike[str], kernel_name: str = "python3", start_timeout: float = 180,
                 retries: int = 2, preload: str = PRELOAD):
        self.cwd = str(cwd)
        self.kernel_name = kernel_name
        self.start_timeout = start_timeout
        self.retries = retries
        self.preload = preload
        self.km: KernelManager | None = None
        self.kc = None
        self.start_seconds = 0.0
        self.starts = 0

    def ensure(self) -> KernelManager:
        """Return a live kernel manager, starting (with retries on start-up failure) when needed."""
        if self.km is not None and self.km.is_alive():
            return self.km
        self.shutdown()
        last: Exception | None = None
        for attempt in range(1, self.retries + 2):
            t0 = time.perf_counter()
            km = KernelManager(kernel_name=self.kernel_name)
            try:
                km.start_kernel(cwd=self.cwd, env={**os.environ, "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=self.start_timeout)
                if self.preload:
                    reply = kc.execute_interactive(self.preload, timeout=self.start_timeout, store_history=False)
                    if reply["content"]["status"] != "ok":
                        raise RuntimeError(f"kernel preload failed: {reply['content'].get('evalue')}")
            except Exception as exc:  # noqa: BLE001 - start races and timeouts are retried (papermill#239, #511)
                last = exc
                log.warning("kernel start attempt %d failed: %s", attempt, exc)
                _quietly(km.shutdown_kernel, now=True)
                continue
            self.km, self.kc = km, kc
            self.start_seconds += time.perf_counter() - t0
            self.starts += 1
            return km
        raise RuntimeError(f"could not start a Jupyter kernel after {self.retries + 1} attempts: {last}")

    def peak_memory_mb(self) -> float | None:
        """The kernel process's peak resident memory (Linux /proc VmHWM), or None where unavailable."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return peak_memory_mb(process.pid) if process is not None else None

    def reset(self, kc) -> None:
        reply = kc.execute_interactive(_reset_code(self.cwd), timeout=60, store_history=False, allow_stdin=False,
                                       output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel reset failed: {reply['content'].get('evalue')}")

    def shutdown(self) -> None:
        if self.kc is not None:
            _quietly(self.kc.stop_channels)
            self.kc = None
        if self.km is not None:
            _quietly(self.km.shutdown_kernel, now=True)
            self.km = None


def peak_memory_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory of a process in MB from /proc/<pid>/status (Linux); None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def _quietly(action, *args, **kwargs) -> None:
    """Run a clean-up step whose failure (an already-dead kernel) must not hide the real error."""
    try:
        action(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        log.debug("clean-up step %s failed: %s", getattr(action, "__name__", action), exc)


_LOCAL = threading.local()
_KERNELS: list[WarmKernel] = []


def warm_kernel(cwd: str | os.PathLike[str] | None = None) -> WarmKernel:
    """This process's (this thread's) warm kernel, created on first use."""
    wk = getattr(_LOCAL, "kernel", None)
    if wk is None:
        from popheal import paths

        wk = WarmKernel(cwd or paths.project_root())
        _LOCAL.kernel = wk
        _KERNELS.append(wk)
    return wk


def shutdown_warm_kernel() -> None:
    for wk in _KERNELS:
        wk.shutdown()
    _KERNELS.clear()
    _LOCAL.__dict__.pop("kernel", None)


atexit.register(shutdown_warm_kernel)


class _WarmClient(PapermillNotebookClient):
    """papermill's client, with the namespace reset run first on the reused kernel."""

    def __init__(self, nb_man, warm: WarmKernel, **kw):
        super().__init__(nb_man, km=warm.km, **kw)
        self.kc = warm.kc  # reuse the warm client: no new channels per notebook
        self._warm = warm

    def papermill_execute_cells(self):
        self._warm.reset(self.kc)
        super().papermill_execute_cells()


class WarmEngine(Engine):
    """papermill engine executing on this worker's warm kernel (``engine_name="popheal-warm"``)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                 stderr_file=None, start_timeout=180, execution_timeout=None, **kwargs):
        warm = warm_kernel()
        warm.start_timeout = max(warm.start_timeout, start_timeout)
        warm.ensure()
        client = _WarmClient(
            nb_man, warm,
            timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
            log=logging.getLogger("papermill"), log_output=log_output,
            stdout_file=stdout_file, stderr_file=stderr_file,
        )
        try:
            return client.execute(cleanup_kc=False)
        finally:
            if warm.km is not None and not warm.km.is_alive():  # died mid-notebook: start afresh next time
                warm.shutdown()


papermill_engines.register(ENGINE_NAME, WarmEngine)
