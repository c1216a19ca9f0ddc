"""Pure builders for one model's server: Deployment, Service, PodDisruptionBudget, NetworkPolicy.

No Pulumi here. The components register exactly these dicts, and the offline preview renders
what the components registered, so a test of a builder is a test of `pulumi up`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

from ..config.accelerators import ACCELERATORS
from ..config.autoscaling import replica_bounds
from ..config.image_catalog import pinned_image
from ..config.model import HF_CACHE_PATH, NEURON_CACHE_PATH, VLLM_PORT_NAME, ModelConfig, ModelSource
from ..config.placement.host_memory import memory_limit
from ..config.platform.node_groups import NodeGroupConfig
from ..config.scheduler_catalog import model_scheduler
from ..config.scheduling import node_selector, tolerations
from . import _scanner_exceptions as scanner_exceptions
from . import _writable_paths as paths
from ._container_security import POD_SECURITY_CONTEXT, container_security_context
from ._labels import recommended_labels
from ._namespace_objects import HF_CACHE_CLAIM, HF_TOKEN_KEY, HF_TOKEN_SECRET, NEURON_CACHE_CLAIM
from ._vllm_args import VLLM_COMMAND, vllm_args

CONTAINER_NAME = "vllm"
HEALTH_PATH = "/health"
PROBE_PERIOD_SECONDS = 10
Object = dict[str, Any]


def model_labels(model: ModelConfig) -> dict[str, str]:
    # `app` is what the workshop selects on (and its kubectl commands use); the recommended
    # labels sit beside it for dashboards and policies.
    return {"app": model.name, **recommended_labels(model.name, "model-server")}


def neuron_compiled_artifacts_path(model: ModelConfig) -> str:
    """Where a hub model's Neuron graphs are compiled to, unique per compile-time setting.

    Graphs are compiled for one tensor-parallel size, maxNumSeqs, maxModelLen, Neuron config
    and the engine flags that shape them (prefix caching, block size, batched tokens, dtype...,
    which arrive through extraArgs); keying the path on them makes a change compile afresh
    instead of loading stale graphs, and keeps two models of the same checkpoint apart.
    """
    settings = json.dumps({
        "neuronConfig": model.neuron_config, "image": model.image,
        "enablePrefixCaching": model.enable_prefix_caching, "extraArgs": model.extra_args,
    }, sort_keys=True)
    digest = hashlib.sha256(settings.encode()).hexdigest()[:8]
    seqs = model.max_num_seqs if model.max_num_seqs is not None else "default"
    length = model.max_model_len if model.max_model_len is not None else "default"
    return f"{NEURON_CACHE_PATH}/{model.model}/tp{model.tensor_parallel_size}-seqs{seqs}-len{length}-{digest}"


def _env(model: ModelConfig) -> list[Object]:
    env: list[Object] = [{"name": key, "value": value} for key, value in model.env.items()]
    derived: dict[str, str] = {}
    if model.source is ModelSource.HUB:
        token_ref = {"secretKeyRef": {"name": HF_TOKEN_SECRET, "key": HF_TOKEN_KEY}}
        # HF_TOKEN is what current huggingface_hub reads; HUGGING_FACE_HUB_TOKEN is what the
        # guide uses and what older images in the wild still read.
        env += [{"name": "HF_TOKEN", "valueFrom": token_ref}, {"name": "HUGGING_FACE_HUB_TOKEN", "valueFrom": token_ref}]
        derived.update(paths.hub_env(model))
        if model.has_compile_cache:
            derived["NEURON_COMPILED_ARTIFACTS"] = neuron_compiled_artifacts_path(model)
    derived.update(paths.runtime_env(model))
    # A variable the user set wins over a derived one; Kubernetes rejects a name given twice.
    env += [{"name": key, "value": value} for key, value in derived.items() if key not in model.env]
    return env


def _volumes(model: ModelConfig, group: NodeGroupConfig) -> tuple[list[Object], list[Object]]:
    """Volumes and mounts. Image-served models get no cache mounts over the image's paths: an empty volume
    over the baked-in paths would hide the weights and graphs and force a download and recompile. Where the
    accelerator persists caches, every model mounts its keyed directory of the `huggingface-cache` claim at a
    path of its own (components/_writable_paths.py); kubelet creates a missing subPath directory
    (kubernetes.io/docs/concepts/storage/volumes/#using-subpath)."""
    volumes: list[Object] = []
    mounts: list[Object] = []
    claims: list[str] = []
    if model.source is ModelSource.HUB:
        caches = [(HF_CACHE_CLAIM, HF_CACHE_PATH)]
        if model.has_compile_cache:
            caches.append((NEURON_CACHE_CLAIM, NEURON_CACHE_PATH))
        for claim, path in caches:
            claims.append(claim)
            mounts.append({"name": claim, "mountPath": path})
    if paths.persists_caches(model):
        if HF_CACHE_CLAIM not in claims:
            claims.append(HF_CACHE_CLAIM)
        mounts.append({"name": HF_CACHE_CLAIM, "mountPath": paths.PERSISTED_CACHE_PATH,
                       "subPath": paths.persisted_cache_sub_path(model, group)})
    volumes += [{"name": claim, "persistentVolumeClaim": {"claimName": claim}} for claim in claims]
    if model.resolved_shm_size:
        # Tensor-parallel workers exchange tensors through /dev/shm; a sized memory volume
        # replaces the guide's hostIPC, which would share the node's IPC namespace.
        volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": model.resolved_shm_size}})
        mounts.append({"name": "shm", "mountPath": "/dev/shm"})
    for name, path in paths.scratch_volumes(model).items():
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": path})
    return volumes, mounts


def _probe(failure_threshold: int, period_seconds: int, timeout_seconds: int) -> Object:
    return {
        "httpGet": {"path": HEALTH_PATH, "port": VLLM_PORT_NAME},
        "periodSeconds": period_seconds,
        "timeoutSeconds": timeout_seconds,
        "failureThreshold": failure_threshold,
    }


def _resources(model: ModelConfig, group: NodeGroupConfig) -> Object:
    accelerator = {ACCELERATORS[model.accelerator].resource_name: str(model.accelerators_per_pod)}
    return {
        "requests": {"cpu": model.resources.cpu, "memory": model.resources.memory, **accelerator},
        # No CPU limit (throttling stalls the engine loop); a memory limit so an overrun is this
        # pod's OOM, not the node's, never below what loading the checkpoint needs where the node
        # has it (config/placement/host_memory.py); extended resources need limit == request.
        "limits": {"memory": memory_limit(model, group), **accelerator},
    }


def scheduler_name(model: ModelConfig) -> str | None:
    """The vendor's scheduler for pods requesting more than one unit where it requires one
    (config/scheduler_catalog.py: Neuron's my-scheduler), else the default."""
    return model_scheduler(model)


def _pod_security_context(model: ModelConfig) -> Object:
    context: Object = dict(POD_SECURITY_CONTEXT)
    if model.run_as_user is not None:
        user = model.run_as_user
        # fsGroup makes volumes that honour it writable for the non-root user. On the EFS claims it is the access point
        # that does: EFS acts as the access point's POSIX user for every client (docs.aws.amazon.com/efs/latest/ug/
        # enforce-identity-access-points.html), so the kubelet's subPath mkdir and the container both own what they write.
        context.update({"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "fsGroup": user})
    return context


def model_scanner_exceptions(model: ModelConfig) -> dict[str, str]:
    exceptions = dict(scanner_exceptions.VLLM_SERVER)
    if model.run_as_user is None:
        exceptions.update(scanner_exceptions.RUNS_AS_ROOT)
    elif model.run_as_user < 10000:
        exceptions.update(scanner_exceptions.LOW_UID)
    if "@sha256:" not in pinned_image(model.image):
        exceptions.update(scanner_exceptions.UNPINNED_IMAGE)
    if model.source is ModelSource.HUB:
        exceptions.update(scanner_exceptions.TOKEN_FROM_ENV)
    if not model.read_only_root_filesystem:
        exceptions.update(scanner_exceptions.WRITABLE_ROOT)
    return exceptions


DERIVED = "derived"
"""`scheduler` default: the vendor's scheduler where the accelerator requires one (scheduler_name)."""


def vllm_container(model: ModelConfig, group: NodeGroupConfig) -> Object:
    """The vLLM server container, as the Deployment (and the compile Job) run it."""
    _, mounts = _volumes(model, group)
    return {
        "name": CONTAINER_NAME,
        "image": pinned_image(model.image),
        "imagePullPolicy": model.image_pull_policy,
        "securityContext": container_security_context(model.read_only_root_filesystem),
        "command": list(VLLM_COMMAND),
        "args": vllm_args(model),
        "env": _env(model),
        "ports": [{"name": VLLM_PORT_NAME, "containerPort": model.port, "protocol": "TCP"}],
        "resources": _resources(model, group),
        "startupProbe": _probe(math.ceil(model.startup_timeout_seconds / PROBE_PERIOD_SECONDS), PROBE_PERIOD_SECONDS, 5),
        "readinessProbe": _probe(3, PROBE_PERIOD_SECONDS, 5),
        "livenessProbe": _probe(5, 30, 10),
        "volumeMounts": mounts,
        **paths.working_dir_fields(model),
    }


def pod_spec(model: ModelConfig, group: NodeGroupConfig, selector: dict[str, str] | None = None,
             scheduler: str | None = DERIVED) -> Object:
    volumes, _ = _volumes(model, group)
    spec: Object = {
        "securityContext": _pod_security_context(model),
        "automountServiceAccountToken": False,
        "nodeSelector": node_selector(group) if selector is None else selector,
        "containers": [vllm_container(model, group)],
        "volumes": volumes,
        "tolerations": tolerations(model),
    }
    name = scheduler_name(model) if scheduler == DERIVED else scheduler
    if name is not None:
        spec["schedulerName"] = name
    return spec


def deployment_object(
    model: ModelConfig, group: NodeGroupConfig, skip_await: bool = False, selector: dict[str, str] | None = None,
    scheduler: str | None = DERIVED,
) -> Object:
    """`selector` replaces the node selector derived from `group`, for clusters whose nodes do not
    carry this project's labels; `scheduler` replaces the derived schedulerName (None: the cluster's
    default scheduler, for a cluster without the Neuron scheduler extension)."""
    labels = model_labels(model)
    annotations = scanner_exceptions.skip_annotations(model_scanner_exceptions(model))
    if skip_await:
        annotations["pulumi.com/skipAwait"] = "true"
    template: Object = {"metadata": {"labels": labels}, "spec": pod_spec(model, group, selector, scheduler)}
    if group.is_karpenter:
        template["metadata"]["annotations"] = start_protection(model)
    # With an autoscaler the HPA owns the count: "When an HPA is enabled, it is recommended that the value of
    # spec.replicas of the Deployment ... be removed from their manifest(s)", or every apply resets it
    # (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/, Migrating Deployments ... to
    # horizontal autoscaling). The Deployment then starts at 1 and the HPA raises it to minReplicas.
    replicas = {} if model.autoscaling is not None else {"replicas": model.replicas}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": labels, "annotations": annotations},
        "spec": {
            **replicas,
            "progressDeadlineSeconds": progress_deadline_seconds(model),
            "selector": {"matchLabels": {"app": model.name}},
            # A surge pod would need accelerators no node has spare and sit Pending; replace
            # pods one at a time instead (a single-replica model is briefly unavailable).
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
            "template": template,
        },
    }


DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


def start_protection(model: ModelConfig) -> dict[str, str]:
    """Keep Karpenter from draining a replica's node while the replica starts: the annotation's duration form
    protects a pod "for the specified duration after the pod starts running" (aws/karpenter-provider-aws v1.14.1
    website/content/en/docs/concepts/disruption.md, Pod-Level Controls), here the startup probe's whole budget.
    A serving replica needs no annotation: its NodePool consolidates only empty nodes (WhenEmpty), and drift
    and expiry drain through the PodDisruptionBudget."""
    return {DO_NOT_DISRUPT: f"{model.startup_timeout_seconds}s"}


def disruption_budget_object(model: ModelConfig) -> Object | None:
    """Let voluntary disruptions (node drains, upgrades) take one replica at a time.

    None for a single replica: a budget that keeps it up would block every node drain.
    """
    if replica_bounds(model)[0] < 2:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": model_labels(model)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": model.name}}},
    }


def model_network_policy_object(model: ModelConfig, allowed_namespaces: list[str],
                                extra_peers: Sequence[Object] = ()) -> Object:
    """Let the namespace's pods (and listed namespaces, and `extra_peers` such as the metrics scraper)
    reach this model's pods on its port.

    One per model rather than a port list on the namespace's policy: a model added on another
    port then changes no other resource. The port is numeric: the AWS network policy controller
    drops ingress rules with named ports (aws/amazon-network-policy-controller-k8s#71, #81).
    """
    peers: list[Object] = [{"podSelector": {}}]
    peers += [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}} for name in allowed_namespaces]
    peers += list(extra_peers)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": model.name, "namespace": model.namespace, "labels": recommended_labels(model.name, "network-policy")},
        "spec": {
            "podSelector": {"matchLabels": {"app": model.name}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": model.port}]}],
        },
    }


def service_object(model: ModelConfig) -> Object:
    """A ClusterIP Service that `pulumi up` does not wait on.

    pulumi-kubernetes waits for a Service's endpoints to hold no not-ready address, 10 minutes by
    default (v4.32.0 provider/pkg/await/service.go); a Service created while model pods start
    (adding a model, re-creating the Service) would time out on a model that takes 20 to 60 minutes
    to load. A ClusterIP Service has nothing else to become ready (no load balancer), and the
    Deployment's own await, sized to the startup budget, already waits for the pods.
    """
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": model.name, "namespace": model.namespace, "labels": model_labels(model),
            "annotations": {"pulumi.com/skipAwait": "true"},
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": model.name},
            "ports": [{"name": VLLM_PORT_NAME, "port": model.port, "targetPort": VLLM_PORT_NAME, "protocol": "TCP"}],
        },
    }


PULL_ALLOWANCE_MINUTES = 10
"""Scheduling and pulling a multi-GB image before the startup probe's budget starts."""


def await_timeout_minutes(model: ModelConfig) -> int:
    """How long `pulumi up` waits for the Deployment: a rollout replaces pods one at a time
    (maxSurge 0, maxUnavailable 1), so each replica's startup budget in turn, plus image pulls."""
    return math.ceil(model.startup_timeout_seconds * max(replica_bounds(model)[1], 1) / 60) + PULL_ALLOWANCE_MINUTES


def progress_deadline_seconds(model: ModelConfig) -> int:
    """One pod's start: the controller counts a new, ready or available replica as progress
    (kubernetes pkg/controller/deployment/util/deployment_util.go DeploymentProgressing), so the longest
    time without progress is one pod's pull and startup budget. The default, 600 s (pkg/apis/apps/v1/
    defaults.go), is shorter than a model's load: the controller would mark the rollout
    ProgressDeadlineExceeded, which `kubectl rollout status` reports as a failure (kubectl
    pkg/polymorphichelpers/rollout_status.go) while pulumi-kubernetes only warns (await/deployment.go)."""
    return model.startup_timeout_seconds + PULL_ALLOWANCE_MINUTES * 60
