"""Pure builders for the gateway: namespace, identity and pod-discovery RBAC, config, keys, Deployment,
Service, PodDisruptionBudget, NetworkPolicy and ServiceMonitor.

No Pulumi here: `keys` may be a Pulumi secret the component hands through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.gateway import GatewayConfig
from ..config.gateway_hold import HoldTime
from ..config.model import ModelConfig
from ..config.stack import MonitoringConfig
from . import _gateway_hold as hold
from . import _gateway_proxy as proxy
from . import _scanner_exceptions as scanner_exceptions
from ._container_security import POD_SECURITY_CONTEXT, container_security_context
from ._gateway_router import METRICS_PORT, ROUTER_COMMAND, discovery_namespace, router_args
from ._labels import managed_labels
from ._scrape_objects import scraper_peer

NAME = "vllm-gateway"
CONFIG_NAME = "vllm-gateway-config"
KEYS_NAME = "vllm-gateway-keys"
NON_ROOT_UID = 65532
"""Both containers run as this user. The router image (python:3.12-slim with the binary in
/usr/local/bin, vllm-project/router Dockerfile.router) sets no user. NGINX's unprivileged image
uses uid 101, but it only needs to read its files and write /tmp (pid and temp paths, nginx.conf
above), so any uid does; a high one keeps clear of host users."""
PROBE_PERIOD_SECONDS = 10
HOLD_METRICS = "hold-metrics"
"""NGINX's port with the held-request gauge (components/_gateway_hold.py) that KEDA's scale from zero reads."""
Object = dict[str, Any]


def labels(component: str = "gateway") -> dict[str, str]:
    return {**managed_labels(NAME), "app.kubernetes.io/component": component}


def selector() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "gateway"}


def namespace_object(gateway: GatewayConfig) -> Object:
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": gateway.namespace, "labels": {
            **labels("namespace"),
            # NGINX, the router and Open WebUI all run unprivileged: the strictest level holds.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        }},
    }


def service_account_object(gateway: GatewayConfig) -> Object:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels()},
            "automountServiceAccountToken": False}


def discovery_rbac_objects(gateway: GatewayConfig, models: list[ModelConfig]) -> list[Object]:
    """Read-only access to pods, the least the router's discovery needs: it lists and watches pods and
    reads their labels, IP and Ready condition (vllm-project/router src/service_discovery.rs, a kube-rs
    watcher on Api<Pod>). Namespaced when every model shares one namespace; cluster-wide otherwise,
    since the router then watches all namespaces (--service-discovery-namespace left out)."""
    namespace = discovery_namespace(models)
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": gateway.namespace}
    scoped = {"namespace": namespace} if namespace is not None else {}
    role_kind, binding_kind = ("Role", "RoleBinding") if namespace is not None else ("ClusterRole", "ClusterRoleBinding")
    name = f"{NAME}-pod-discovery" if namespace is not None else f"{NAME}-pod-discovery-{gateway.namespace}"
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
         "metadata": {"name": name, **scoped, "labels": labels()}, "rules": [rule]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
         "metadata": {"name": name, **scoped, "labels": labels()},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name}, "subjects": [subject]},
    ]


def config_map_object(gateway: GatewayConfig, models: list[ModelConfig], holds: Mapping[str, HoldTime]) -> Object:
    """nginx.conf, the hold script, the model list and each model's hold: no credential, so a ConfigMap; a
    model added to the stack changes models.json and holds.json in the same `pulumi up`."""
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": CONFIG_NAME, "namespace": gateway.namespace, "labels": labels()},
        "data": {"nginx.conf": proxy.nginx_conf(gateway), proxy.MODELS_FILE: proxy.models_document(models),
                 hold.SCRIPT_FILE: hold.SCRIPT, hold.HOLDS_FILE: hold.holds_document(holds)},
    }


def keys_secret_object(gateway: GatewayConfig, keys_file: Any) -> Object:
    """`keys_file` is proxy.keys_file(...) text, or a Pulumi secret of it."""
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": KEYS_NAME, "namespace": gateway.namespace, "labels": labels("credentials")},
        "type": "Opaque",
        "stringData": {proxy.KEYS_FILE: keys_file},
    }


def _http_probe(path: str, failure_threshold: int) -> Object:
    return {"httpGet": {"path": path, "port": proxy.PROXY_PORT}, "periodSeconds": PROBE_PERIOD_SECONDS,
            "timeoutSeconds": 3, "failureThreshold": failure_threshold}


def _security(uid: int) -> Object:
    return {**container_security_context(), "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid}


def proxy_container(gateway: GatewayConfig) -> Object:
    return {
        "name": "proxy",
        "image": gateway.proxy_image,
        # Tags can move: pull on every start (the images are small).
        "imagePullPolicy": "Always",
        "command": ["nginx"],
        "args": ["-c", f"{proxy.CONFIG_DIR}/nginx.conf", "-g", "daemon off;"],
        "ports": [{"name": "http", "containerPort": proxy.PROXY_PORT, "protocol": "TCP"},
                  {"name": HOLD_METRICS, "containerPort": hold.HOLD_METRICS_PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                      "limits": {"cpu": "1", "memory": f"{proxy.proxy_memory_limit_mib(gateway)}Mi"}},
        "securityContext": _security(NON_ROOT_UID),
        "readinessProbe": _http_probe(proxy.HEALTH_PATH, 3),
        "livenessProbe": _http_probe(proxy.HEALTH_PATH, 3),
        "volumeMounts": [
            {"name": "config", "mountPath": proxy.CONFIG_DIR, "readOnly": True},
            {"name": "keys", "mountPath": proxy.KEYS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def router_container(gateway: GatewayConfig, models: list[ModelConfig]) -> Object:
    return {
        "name": "router",
        "image": gateway.router_image,
        "imagePullPolicy": "Always",
        "command": list(ROUTER_COMMAND),
        "args": router_args(gateway, models),
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "securityContext": _security(NON_ROOT_UID),
        # The router listens on loopback; kubelet reaches its /liveness through NGINX. A startup probe
        # too: the policy pack (policy/vllm_policies.py) holds every image of a vllm repository to it.
        "startupProbe": _http_probe(proxy.ROUTER_LIVENESS_PATH, 12),
        "readinessProbe": _http_probe(proxy.ROUTER_LIVENESS_PATH, 3),
        "livenessProbe": _http_probe(proxy.ROUTER_LIVENESS_PATH, 6),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment_object(gateway: GatewayConfig, models: list[ModelConfig], config_hash: str) -> Object:
    """`config_hash` (of nginx.conf and the keys, gateway.config_hash) annotates the pod template, so a
    changed key or limit rolls the pods: NGINX reads those files at start only."""
    template_labels = {**labels(), **selector()}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels(),
                     "annotations": scanner_exceptions.skip_annotations(scanner_exceptions.GATEWAY)},
        "spec": {
            "replicas": gateway.replicas,
            "selector": {"matchLabels": selector()},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": template_labels, "annotations": {"vllm-eks/config-hash": config_hash}},
                "spec": {
                    "serviceAccountName": NAME,
                    # The router's pod discovery calls the API server with this token.
                    "automountServiceAccountToken": True,
                    "securityContext": POD_SECURITY_CONTEXT,
                    "containers": [proxy_container(gateway), router_container(gateway, models)],
                    "volumes": [
                        {"name": "config", "configMap": {"name": CONFIG_NAME}},
                        {"name": "keys", "secret": {"secretName": KEYS_NAME}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                    ],
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector()},
                    }],
                },
            },
        },
    }


def service_object(gateway: GatewayConfig) -> Object:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels()},
        "spec": {
            "type": "ClusterIP", "selector": selector(),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                      {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
                      {"name": HOLD_METRICS, "port": hold.HOLD_METRICS_PORT, "targetPort": HOLD_METRICS, "protocol": "TCP"}],
        },
    }


def disruption_budget_object(gateway: GatewayConfig) -> Object | None:
    if gateway.replicas < 2:
        return None
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels()},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector()}}}


def network_policy_object(gateway: GatewayConfig, monitoring: MonitoringConfig) -> Object:
    """The gateway's port to anyone in the cluster (and the load balancer's targets); the metrics port
    and NGINX's held-request port to Prometheus's server pods only (components/_scrape_objects.scraper_peer). The
    router's own port is on loopback and needs no rule."""
    rules: list[Object] = [{"ports": [{"protocol": "TCP", "port": proxy.PROXY_PORT}]}]
    if monitoring.service_monitors:
        rules.append({"from": [scraper_peer(monitoring)], "ports": [{"protocol": "TCP", "port": METRICS_PORT},
                                                                    {"protocol": "TCP", "port": hold.HOLD_METRICS_PORT}]})
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels("network-policy")},
        "spec": {"podSelector": {"matchLabels": selector()}, "policyTypes": ["Ingress"], "ingress": rules},
    }


def service_monitor_object(gateway: GatewayConfig, monitoring: MonitoringConfig) -> Object:
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels()},
        "spec": {
            "selector": {"matchLabels": selector()},
            "namespaceSelector": {"matchNames": [gateway.namespace]},
            "endpoints": [{"port": port, "path": "/metrics", "interval": f"{monitoring.scrape_interval_seconds}s"}
                          for port in ("metrics", HOLD_METRICS)],
        },
    }


def gateway_url(gateway: GatewayConfig) -> str:
    """The in-cluster URL of the one OpenAI-compatible endpoint (base URL for OpenAI clients)."""
    return f"http://{NAME}.{gateway.namespace}.svc.cluster.local/v1"
