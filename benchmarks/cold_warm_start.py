"""A pod's start with empty persisted caches against a start with the caches a first start left, same run.

Both boots are the boot stage's (boot/run.py): the rendered Deployment of one committed stack, started on vLLM's
CPU build in its reproduced pod filesystem (read-only root, emptyDir tmpfs, claims as directories), timed from
launch to the readiness probe's /health. The claim directories live outside the pod's directory and are kept
between the two boots, as the namespace's EFS claim is between two replicas: the first boot starts with an empty
`vllm-eks-caches/<model>-<key>` directory (cold), the second with what the first left there (warm). Everything
else (the emptyDirs, /tmp included) starts empty both times, as in a new pod. strace is off (BOOT_TRACE=0), so
the times are vLLM's own; FlashInfer's import check is skipped (it is not part of the start).

Baseline: the cold boot. Prints both times, what the keyed directory holds, and warm/cold.

Run as root, holding the machine's vLLM lock:
    flock /work/tools/vllm.lock .venv/bin/python benchmarks/cold_warm_start.py [--stack prod] [--only qwen3-32b-fp8]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
from pathlib import Path

os.environ["BOOT_TRACE"] = "0"  # read at boot.run's import
PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from boot.pod import plan_deployments  # noqa: E402
from boot.run import WORK, boot_one, home_for_uid, host_fp8_kv, render, report, tiny_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--only", default="qwen3-32b-fp8", help="a Deployment whose pod persists its caches")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("cold_warm_start: needs root (the boot stage's namespaces)", file=sys.stderr)
        return 2
    plans, _ = plan_deployments(args.stack, render(args.stack), home_for_uid=home_for_uid, host_fp8_kv=host_fp8_kv())
    plan = next((p for p in plans if p.deployment == args.only), None)
    if plan is None or not any(m.sub_path for m in plan.mounts):
        print(f"cold_warm_start: {args.stack}/{args.only} mounts no claim subPath (no persisted caches)", file=sys.stderr)
        return 2
    plan = dataclasses.replace(plan, gpu=False)  # skip the FlashInfer import check: not part of the start
    claims = WORK / "bench-claims" / f"{args.stack}-{args.only}"
    shutil.rmtree(claims, ignore_errors=True)
    model_dir = tiny_model()
    times = {}
    for run in ("cold", "warm"):
        outcome = boot_one(plan, model_dir, pvc_root=claims)
        print("\n".join(report(outcome)), flush=True)
        if not outcome.ok or outcome.boot_seconds is None:
            print(f"cold_warm_start: the {run} boot failed")
            return 1
        times[run] = outcome.boot_seconds
    print()
    print(f"{args.stack}/{args.only} on vLLM's CPU build, launch to {plan.health_path}:")
    print(f"  cold (empty keyed cache directory):      {times['cold']:6.1f} s")
    print(f"  warm (the directory the cold boot left): {times['warm']:6.1f} s")
    print(f"  warm/cold = {times['warm'] / times['cold']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
