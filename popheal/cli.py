"""The ``popheal`` command: ``synth`` (generate a demo area), ``packs`` (build the PCN packs), ``scan``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from popheal import __version__
from popheal.io.errors import InputError

__all__ = ["main"]


def _cmd_synth(args) -> int:
    from popheal import synth
    from popheal.params import load

    params = load(args.params)
    if not params.area.synthetic:
        raise InputError(params.source, "popheal synth only generates areas marked 'synthetic: true'",
                         column="area.synthetic")
    written = synth.generate(params, out_dir=args.out, progress=not args.quiet)
    folder = Path(next(iter(written.values()))).parent if written else args.out
    print(f"wrote {len(written)} files for {params.area.name} (synthetic) into {folder}")
    return 0


def _cmd_packs(args) -> int:
    from popheal.params import load
    from popheal.reports.batch import build_packs

    params = load(args.params)
    params.select(args.pcn)  # fail on unknown codes before anything starts
    summary = build_packs(params, pcns=args.pcn, workers=args.workers, out=args.out, force=args.force,
                          dask_address=args.dask, progress=not args.quiet)
    print(f"packs for {params.area.name}: {len(summary.built)} built, {len(summary.skipped)} unchanged (skipped), "
          f"{len(summary.failed)} failed, in {summary.seconds:.1f} s -> {summary.run_dir}")
    for code, err in summary.failed.items():
        print(f"  FAILED {code}: {err.splitlines()[0] if err else ''} (see {summary.run_dir / 'failed' / code})")
    if summary.overview_ok is False:
        print(f"  FAILED area overview (see {summary.run_dir / 'failed' / 'area'})")
    if summary.failed:
        print(f"{len(summary.failed)} PCN pack(s) failed")
    return summary.exit_code


def _cmd_scan(args) -> int:
    from popheal import disclosure

    report = disclosure.scan(Path(args.path), threshold=args.threshold, base=args.base)
    print(report.format())
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="popheal", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"popheal {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic area's input files (the demo)",
                       description="Generate every input file of a synthetic area, in the published layouts, "
                                   "into data/raw/synthetic/<area>/ (deterministic for the YAML's seed).")
    p.add_argument("--params", default="params/wolverhampton.yaml", help="area YAML (default: %(default)s)")
    p.add_argument("--out", default=None, help="folder to write into (default: the YAML's data.folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("packs", help="build one HTML pack per PCN and the area overview",
                       description="Run every notebook per PCN, export HTML, scan for disclosure problems and "
                                   "publish packs under outputs/<area>/<period>/packs/.")
    p.add_argument("--params", default="params/wolverhampton.yaml", help="area YAML (default: %(default)s)")
    p.add_argument("--pcn", action="append", metavar="CODE", help="only this PCN (repeatable)")
    p.add_argument("--workers", type=int, default=None, help="parallel workers (default: number of cores)")
    p.add_argument("--out", default=None, help="outputs folder (default: outputs/)")
    p.add_argument("--force", action="store_true", help="rebuild packs even when inputs, parameters and code "
                                                        "are unchanged")
    p.add_argument("--dask", metavar="tcp://HOST:PORT", default=None, help="build on a dask.distributed cluster")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_packs)

    p = sub.add_parser("scan", help="check a folder of outputs for disclosure problems",
                       description="Report small counts, unrounded counts, identifiers (NHS numbers, patient "
                                   "ids, dates of birth) and patient-level tables in every HTML table, CSV and "
                                   "XLSX under PATH. Exit code 1 when anything is found.")
    p.add_argument("path")
    p.add_argument("--threshold", type=int, default=7, help="largest count that must be suppressed (default 7)")
    p.add_argument("--base", type=int, default=5, help="rounding base (default 5)")
    p.set_defaults(func=_cmd_scan)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"popheal: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("popheal: interrupted; no partial pack was published", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
