"""Reproduce one pod's filesystem, user and network, then run its command: PID 1 of the boot.

Started by boot/run.py as `unshare --mount --net --pid --fork -- python3 boot/sandbox.py SPEC`,
as root. Standard library only (it runs before any venv is in view). What it builds, in order:

  lo up in a fresh network namespace (nothing but 127.0.0.1 is reachable from the boot);
  a root: overlay of the harness's image layer (tiny model, `vllm` wrapper) over this machine's /,
    with a tmpfs container layer on top, so creating mount points never touches the host;
  /proc (the new PID namespace), /dev and /sys (read-only) from the host;
  the boot venv read-only at /opt/vllm-boot/venv (the image's Python install);
  every volumeMount: emptyDir -> tmpfs (sizeLimit as its size), PVC -> the harness's fresh
    directory, /dev/shm -> the runtime's 64 MiB tmpfs unless the pod mounts one;
  the root remounted read-only when readOnlyRootFilesystem is true;
then forks: the child chroots, enters workingDir, drops to runAsUser/runAsGroup with no
supplementary groups and execs the command with exactly the rendered env (under strace when
asked, which records every failed write to a file). The parent forwards SIGTERM, waits, and
writes what the container layer gained (writes that only a writable root would have kept).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys

VENV_IN_POD = "/opt/vllm-boot/venv"
TRACE_IN_POD = "/.boot-trace"
# Syscalls that create, change or remove a path: strace reports each failed one.
WRITE_SYSCALLS = ("open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,"
                  "rmdir,symlink,symlinkat,link,linkat,chmod,fchmodat,chown,lchown,fchownat,truncate,"
                  "utimensat,mknod,mknodat,setxattr,lsetxattr")


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def loopback_up() -> None:
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifreq)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def build_root(spec: dict) -> str:
    scratch = spec["scratch"]
    run("mount", "--make-rprivate", "/")
    run("mount", "-t", "tmpfs", "-o", "size=1g,mode=0755", "boot-layer", scratch)
    for d in ("upper", "work", "root"):
        os.makedirs(os.path.join(scratch, d))
    # The image layer is copied onto the tmpfs: overlayfs refuses a lower layer that lies inside
    # another one (ELOOP), and the harness's directory is inside /.
    run("cp", "-a", spec["image_layer"], os.path.join(scratch, "image"))
    root = os.path.join(scratch, "root")
    run("mount", "-t", "overlay", "overlay", "-o",
        f"lowerdir={scratch}/image:/,upperdir={scratch}/upper,workdir={scratch}/work", root)
    run("mount", "-t", "proc", "proc", inside(root, "/proc"))
    run("mount", "--rbind", "/dev", inside(root, "/dev"))
    run("mount", "--rbind", "/sys", inside(root, "/sys"))
    run("mount", "-o", "remount,bind,ro", inside(root, "/sys"))
    os.makedirs(inside(root, VENV_IN_POD), exist_ok=True)
    run("mount", "--bind", spec["venv"], inside(root, VENV_IN_POD))
    run("mount", "-o", "remount,bind,ro", inside(root, VENV_IN_POD))
    if spec.get("trace_dir"):
        os.makedirs(inside(root, TRACE_IN_POD), exist_ok=True)
        run("mount", "--bind", spec["trace_dir"], inside(root, TRACE_IN_POD))
    plan = spec["plan"]
    # Mount points and the working directory exist before the root turns read-only, as the
    # container runtime creates them in the container layer.
    for mount in plan["mounts"]:
        os.makedirs(inside(root, mount["path"]), exist_ok=True)
    os.makedirs(inside(root, plan["working_dir"]), exist_ok=True)
    if plan["read_only_root"]:
        run("mount", "-o", "remount,bind,ro", root)
    for mount in plan["mounts"]:
        target = inside(root, mount["path"])
        if mount["kind"] in ("emptyDir", "shm"):
            # kubelet creates emptyDir directories world-writable (0777); a tmpfs stands in for
            # both media: what matters here is that the path is writable and how large it is.
            options = "mode=1777" + (f",size={mount['size_bytes']}" if mount.get("size_bytes") else "")
            run("mount", "-t", "tmpfs", "-o", options, mount["volume"], target)
        elif mount["kind"] == "pvc":
            # A subPath mount binds that directory of the claim (boot/run.py creates it, as the kubelet does).
            source = os.path.join(spec["pvc_dirs"][mount["volume"]], mount.get("sub_path") or "")
            run("mount", "--bind", source, target)
        if mount.get("read_only"):
            run("mount", "-o", "remount,bind,ro", target)
    return root


def container_layer_writes(scratch: str) -> list[str]:
    upper = os.path.join(scratch, "upper")
    created = []
    for dirpath, dirnames, filenames in os.walk(upper):
        for name in filenames:
            created.append("/" + os.path.relpath(os.path.join(dirpath, name), upper))
        if not dirnames and not filenames and dirpath != upper:
            created.append("/" + os.path.relpath(dirpath, upper) + "/")
    return sorted(created)


def mount_contents(root: str, plan: dict) -> dict[str, dict[str, int]]:
    """Per writable mount: each top-level entry the run left there and its size in bytes."""
    contents: dict[str, dict[str, int]] = {}
    for mount in plan["mounts"]:
        if mount.get("read_only"):
            continue
        target = inside(root, mount["path"])
        entries: dict[str, int] = {}
        for name in sorted(os.listdir(target)):
            path, total = os.path.join(target, name), 0
            for dirpath, _, filenames in os.walk(path):
                for f in filenames:
                    try:
                        total += os.lstat(os.path.join(dirpath, f)).st_size
                    except OSError:
                        pass
            if os.path.isfile(path):
                total = os.lstat(path).st_size
            entries[name] = total
        contents[mount["path"]] = entries
    return contents


def exec_container(root: str, spec: dict) -> None:
    plan = spec["plan"]
    os.chroot(root)
    os.chdir(plan["working_dir"])
    os.setgroups([])
    os.setgid(plan["gid"])
    os.setuid(plan["uid"])
    argv = list(spec.get("argv_override") or plan["argv"])
    if spec.get("trace_dir"):
        argv = ["strace", "-ff", "-qq", "--seccomp-bpf", "-e", f"trace={WRITE_SYSCALLS}", "-e", "status=failed",
                "-o", f"{TRACE_IN_POD}/trace", *argv]
    env = dict(plan["env"])
    os.execvpe(argv[0], argv, env)


def main(spec_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    loopback_up()
    root = build_root(spec)
    before = set(container_layer_writes(spec["scratch"]))  # mount points and the working directory
    child = os.fork()
    if child == 0:
        try:
            exec_container(root, spec)
        except BaseException as error:  # the exec failed: say why, as the runtime would
            print(f"boot sandbox: cannot start {spec['plan']['argv'][:2]}: {error}", file=sys.stderr, flush=True)
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    with open(spec["layer_report"], "w") as f:
        json.dump({"container_layer": sorted(set(container_layer_writes(spec["scratch"])) - before),
                   "mounts": mount_contents(root, spec["plan"])}, f)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
