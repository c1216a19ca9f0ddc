"""Security-scanner findings the vLLM server cannot satisfy, each with its reason.

They are written onto the objects themselves as `checkov.io/skipN` annotations, so an
exception applies only to the object it was granted for, its reason travels with the
manifest, and any new finding fails the scan in the tests.
"""

from __future__ import annotations

# checkov splits the annotation on "=", so a reason must not contain one.
VLLM_SERVER = {
    "CKV_K8S_11": "no CPU limit on purpose: CFS throttling stalls the vLLM engine loop; the request reserves the CPU",
    "CKV_K8S_15": "IfNotPresent on purpose: vLLM images are tens of GB and re-pulling them delays every restart",
}
RUNS_AS_ROOT = {
    "CKV_K8S_23": "vLLM and Neuron images run as root and keep their caches under /root/.cache (set runAsUser for a non-root image)",
    "CKV_K8S_40": "vLLM and Neuron images run as root and keep their caches under /root/.cache (set runAsUser for a non-root image)",
}
LOW_UID = {
    "CKV_K8S_40": "the image's non-root user has a UID below 10000 (runAsUser must match the image)",
}
WRITABLE_ROOT = {
    "CKV_K8S_22": "readOnlyRootFilesystem is off for this model because its image writes outside /tmp",
}
UNPINNED_IMAGE = {
    "CKV_K8S_43": "the image is referenced by tag as published; set image to repository@sha256 digest to pin it",
}
TOKEN_FROM_ENV = {
    "CKV_K8S_35": "huggingface_hub reads the token from HF_TOKEN; the variable references the Secret, never a literal",
}


DEVICE_PLUGIN = {
    "CKV_K8S_8": "device plugins serve gRPC on a kubelet unix socket and expose no endpoint to probe",
    "CKV_K8S_9": "device plugins serve gRPC on a kubelet unix socket and expose no endpoint to probe",
    "CKV_K8S_15": "the vendor image is pinned to a release tag; IfNotPresent keeps nodes starting when the registry is down",
    "CKV_K8S_23": "the plugin must create its socket in the root-owned kubelet device-plugins directory",
    "CKV_K8S_40": "the plugin must create its socket in the root-owned kubelet device-plugins directory",
    "CKV_K8S_43": "pinned to the vendor's release tag as the vendor publishes it",
}
VENDOR_SCHEDULER = {
    "CKV_K8S_15": "the vendor image is pinned to a release tag; IfNotPresent keeps scheduling working when the registry is down",
    "CKV_K8S_43": "pinned to the vendor's release tag as the vendor publishes it",
    "CKV_K8S_38": "a scheduler reads nodes and pods and binds pods through the API server under its own ClusterRole",
}
GATEWAY = {
    "CKV_K8S_43": "the image is referenced by tag as published; set gateway.routerImage/proxyImage to repository@sha256 digests to pin them",
    "CKV_K8S_38": "the router's pod discovery lists and watches model pods through the API server under a read-only Role",
}
OPEN_WEBUI = {
    "CKV_K8S_35": "Open WebUI 0.12.4 reads WEBUI_SECRET_KEY, WEBUI_ADMIN_PASSWORD and OPENAI_API_KEYS from its environment only; each references the Secret",
    "CKV_K8S_43": "the image is referenced by tag as published; set openWebui.image to repository@sha256 to pin it",
}
_VENDOR_PIN = "pinned to the vendor's release tag as the vendor publishes it"
_VENDOR_PULL = "the vendor image is pinned to a release tag; IfNotPresent keeps nodes starting when the registry is down"
DCGM_EXPORTER = {
    "CKV_K8S_15": _VENDOR_PULL,
    "CKV_K8S_43": _VENDOR_PIN,
    "CKV_K8S_22": "the vendor leaves the root filesystem writable and names no paths to mount tmpfs at (dcgm-exporter.yaml)",
    "CKV_K8S_23": "DCGM's profiling metrics need root with SYS_ADMIN (the vendor's dcgm-exporter.yaml)",
    "CKV_K8S_40": "DCGM's profiling metrics need root with SYS_ADMIN (the vendor's dcgm-exporter.yaml)",
    "CKV_K8S_37": "SYS_ADMIN is added for DCGM's profiling metrics (DCGM_FI_PROF_*); every other capability is dropped",
    "CKV_K8S_39": "SYS_ADMIN is added for DCGM's profiling metrics (DCGM_FI_PROF_*); every other capability is dropped",
    "CKV_K8S_25": "SYS_ADMIN is added for DCGM's profiling metrics (DCGM_FI_PROF_*); every other capability is dropped",
}
_NEURON_PRIVILEGED = "neuron-monitor reads the Neuron driver's host devices and runs privileged as AWS ships it (k8s-neuron-monitor-daemonset.yml)"
NEURON_MONITOR = {
    "CKV_K8S_15": _VENDOR_PULL,
    "CKV_K8S_43": _VENDOR_PIN,
    "CKV_K8S_8": "AWS's manifest sets no probes and documents none for the exporter",
    "CKV_K8S_9": "AWS's manifest sets no probes and documents none for the exporter",
    "CKV_K8S_16": _NEURON_PRIVILEGED,
    "CKV_K8S_20": _NEURON_PRIVILEGED,
    "CKV_K8S_22": _NEURON_PRIVILEGED,
    "CKV_K8S_23": _NEURON_PRIVILEGED,
    "CKV_K8S_28": _NEURON_PRIVILEGED,
    "CKV_K8S_37": _NEURON_PRIVILEGED,
    "CKV_K8S_40": _NEURON_PRIVILEGED,
}
API_CLIENT = {
    "CKV_K8S_38": "the plugin reads and patches its node through the API server under its own ClusterRole",
}


def skip_annotations(exceptions: dict[str, str]) -> dict[str, str]:
    return {f"checkov.io/skip{index}": f"{check}={reason}" for index, (check, reason) in enumerate(sorted(exceptions.items()), start=1)}
