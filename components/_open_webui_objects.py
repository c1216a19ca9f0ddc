"""Pure builders for Open WebUI in the gateway's namespace: its PVC, Secret, Deployment, Service, NetworkPolicy.

Settings are Open WebUI 0.12.4's own environment variables (PyPI open-webui 0.12.4, read from
open_webui/env.py, open_webui/config.py and open_webui/main.py); the end-to-end stage runs that
package with the same values.
"""

from __future__ import annotations

import json
from typing import Any

from ..config.gateway import GatewayConfig, OpenWebUiConfig
from . import _scanner_exceptions as scanner_exceptions
from ._container_security import POD_SECURITY_CONTEXT, container_security_context
from ._labels import managed_labels

NAME = "open-webui"
DATA_CLAIM = "open-webui-data"
SECRET_NAME = "open-webui"
PORT = 8080
"""The image's start script serves on 8080 (PORT's default)."""
DATA_DIR = "/app/backend/data"
"""DATA_DIR (env.py): the SQLite database, uploads and caches (CACHE_DIR is DATA_DIR/cache)."""
UID = 65532
SECRET_KEYS = {"WEBUI_SECRET_KEY": "secretKey", "WEBUI_ADMIN_PASSWORD": "adminPassword", "OPENAI_API_KEYS": "gatewayKey"}
"""Environment variable -> key in the Secret (and in the mapping the component hands to the Secret)."""
Object = dict[str, Any]


def labels(component: str = "open-webui") -> dict[str, str]:
    return {**managed_labels(NAME), "app.kubernetes.io/component": component}


def selector() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "open-webui"}


def settings(webui: OpenWebUiConfig, gateway_url: str) -> dict[str, str]:
    """The plain (non-secret) environment, each from Open WebUI 0.12.4's source."""
    return {
        "DATA_DIR": DATA_DIR,
        # env.py: sets HF_HUB_OFFLINE and turns off the version check; config.py: no embedding-model
        # auto-update. The pod needs nothing from the internet.
        "OFFLINE_MODE": "true",
        "ENABLE_OLLAMA_API": "false",
        "ENABLE_OPENAI_API": "true",
        # One connection: the gateway, which lists every model of the stack (also scaled to zero).
        "OPENAI_API_BASE_URLS": gateway_url,
        "ENABLE_SIGNUP": "true" if webui.enable_signup else "false",
        # main.py: with both set and no user yet, this admin is created on first start (and signup closed).
        "WEBUI_ADMIN_EMAIL": webui.admin_email,
        "WEBUI_ADMIN_NAME": "Admin",
        # env.py: every user sees every model; without it, models from a connection are admin-only until shared.
        "BYPASS_MODEL_ACCESS_CONTROL": "true",
        # config.py: the settings above win on every start instead of what the database kept from the first.
        "ENABLE_PERSISTENT_CONFIG": "false",
        # config.py DEFAULT_MODEL_METADATA, merged into every model's meta by utils/models.py (a model's own capabilities,
        # set by an admin in the UI, win). With builtin_tools on, utils/middleware.py (use_builtin_tools) attaches the
        # built-in tools' schemas to every chat from the UI as `tools`, without tool_choice: 28 functions, 20.9k
        # characters of JSON, 5,365 prompt tokens under Qwen3's chat template (measured, docs/gateway.md). vLLM takes
        # tools without tool_choice as "auto" and answers 400 unless the server has a tool-call parser, so it is off
        # unless openWebui.builtinTools is set, which config/gateway_rules.py allows only when every model has one.
        "DEFAULT_MODEL_METADATA": json.dumps({"capabilities": {"builtin_tools": webui.builtin_tools}}),
        "HOME": "/tmp",
    }


def secret_object(gateway: GatewayConfig, values: Any) -> Object:
    """`values` maps SECRET_KEYS' values (secretKey, adminPassword, gatewayKey) to text, or is a Pulumi secret of that."""
    return {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": gateway.namespace, "labels": labels("credentials")},
        "type": "Opaque",
        "stringData": values,
    }


def claim_object(gateway: GatewayConfig, webui: OpenWebUiConfig) -> Object:
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": DATA_CLAIM, "namespace": gateway.namespace, "labels": labels("data")},
        "spec": {"storageClassName": webui.storage_class, "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": webui.storage_size}}},
    }


def _probe(failure_threshold: int, period: int) -> Object:
    return {"httpGet": {"path": "/health", "port": PORT}, "periodSeconds": period, "timeoutSeconds": 5,
            "failureThreshold": failure_threshold}


def deployment_object(gateway: GatewayConfig, webui: OpenWebUiConfig, gateway_url: str) -> Object:
    env: list[Object] = [{"name": key, "value": value} for key, value in settings(webui, gateway_url).items()]
    env += [{"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}}
            for name, key in SECRET_KEYS.items()]
    container = {
        "name": "open-webui",
        "image": webui.image,
        "imagePullPolicy": "Always",
        "env": env,
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "securityContext": {**container_security_context(), "runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID},
        # The first start creates the database and runs its migrations.
        "startupProbe": _probe(60, 5),
        "readinessProbe": _probe(3, 10),
        "livenessProbe": _probe(6, 20),
        "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels(),
                     "annotations": scanner_exceptions.skip_annotations(scanner_exceptions.OPEN_WEBUI)},
        "spec": {
            # One writer for its SQLite database: never two pods at once.
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector()},
            "template": {
                "metadata": {"labels": {**labels(), **selector()}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {**POD_SECURITY_CONTEXT, "fsGroup": UID},
                    "containers": [container],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": DATA_CLAIM}},
                                {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
                },
            },
        },
    }


def service_object(gateway: GatewayConfig) -> Object:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels()},
        "spec": {"type": "ClusterIP", "selector": selector(),
                 "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
    }


def network_policy_object(gateway: GatewayConfig) -> Object:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": NAME, "namespace": gateway.namespace, "labels": labels("network-policy")},
        "spec": {"podSelector": {"matchLabels": selector()}, "policyTypes": ["Ingress"],
                 "ingress": [{"ports": [{"protocol": "TCP", "port": PORT}]}]},
    }


def open_webui_url(gateway: GatewayConfig) -> str:
    return f"http://{NAME}.{gateway.namespace}.svc.cluster.local"
