"""The batch runner: warm kernels without leaks between notebooks, and the Dask path on a LocalCluster."""

from __future__ import annotations

import json

import nbformat
import papermill as pm
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from popheal.reports import kernel


def _notebook(path, body: str):
    nb = new_notebook(cells=[new_code_cell("x = 0", metadata={"tags": ["parameters"]}), new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_no_state_leaks_from_one_notebook_to_the_next_on_a_warm_kernel(tmp_path):
    setter = _notebook(tmp_path / "a.ipynb", "leak = x\nimport os\nos.chdir('/')\n"
                                            "import matplotlib.pyplot as plt\nplt.figure()\nplt.rcParams['lines.linewidth'] = 9")
    checker = _notebook(tmp_path / "b.ipynb",
                        "import os, matplotlib.pyplot as plt\n"
                        "assert 'leak' not in globals(), 'a variable leaked'\n"
                        "assert plt.get_fignums() == [], 'a figure leaked'\n"
                        "assert plt.rcParams['lines.linewidth'] != 9, 'a style setting leaked'\n"
                        "print(os.getcwd(), x)")
    warm = kernel.warm_kernel()
    for i in range(2):
        pm.execute_notebook(str(setter), None, parameters={"x": i}, engine_name=kernel.ENGINE_NAME,
                            progress_bar=False)
        out = pm.execute_notebook(str(checker), None, parameters={"x": i}, engine_name=kernel.ENGINE_NAME,
                                  progress_bar=False)
        assert out.cells[-1].outputs[0]["text"].strip().endswith(str(i))
    assert warm.starts == 1, "the kernel was reused, not restarted"
    kernel.shutdown_warm_kernel()


def test_findings_stay_in_their_own_pcn(tiny_packs, tiny_area):
    run = tiny_packs.run_dir
    for pcn in tiny_area.pcns:
        manifest = json.loads((run / "packs" / pcn.code / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["pcn_code"] == pcn.code
        other = [p.name for o in tiny_area.pcns if o.code != pcn.code for p in o.practices]
        assert not any(name in f["text"] for f in manifest["findings"] for name in other)


@pytest.mark.slow
def test_dask_local_cluster_builds_the_same_packs(tiny_area, tmp_path):
    distributed = pytest.importorskip("distributed")
    from popheal.reports.batch import build_packs

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = build_packs(tiny_area, out=str(tmp_path), dask_address=cluster.scheduler_address,
                              progress=False)
    assert summary.exit_code == 0, summary.failed
    assert sorted(summary.built) == ["DEMPCN1", "DEMPCN2"] and summary.overview_ok
    for pcn in ("DEMPCN1", "DEMPCN2"):
        pack = summary.run_dir / "packs" / pcn
        assert (pack / "index.html").is_file() and (summary.run_dir / "packs" / f"{pcn}.zip").is_file()
    assert (summary.run_dir / "index.html").is_file()
    assert not (summary.run_dir / ".building").exists()
