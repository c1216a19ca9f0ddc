"""The gateway: one URL for every model, routes from the stack's models, team keys only in a Secret."""

from __future__ import annotations

import json
import runpy

import yaml

from tests.conftest import PROJECT_DIR, recording_for
from vllm_eks.components import _gateway_hold as hold
from vllm_eks.components import _gateway_objects as objects
from vllm_eks.components import _gateway_proxy as proxy
from vllm_eks.components._gateway_router import discovery_namespace, router_args
from vllm_eks.config.gateway import GatewayConfig, GatewayTeamConfig
from vllm_eks.config.gateway_hold import KEDA_POLLING_SECONDS
from vllm_eks.config.loader import load_stack_file, read_stack_file
from vllm_eks.config.model import ModelConfig
from vllm_eks.preview.engine import run_program
from vllm_eks.preview.render import manifests, plan

PLATFORM_KEY = "canaryPlatformKey0123456789abcdefghijklmnop"
WEBUI_KEY = "canaryWebUiKey0123456789abcdefghijklmnopqrst"
GATEWAY = GatewayConfig(enabled=True, teams=[GatewayTeamConfig(name="platform", requests_per_minute=120, burst=5,
                                                               max_concurrent_requests=3)])


def _model(name: str, namespace: str = "vllm") -> ModelConfig:
    return ModelConfig.model_validate(dict(
        name=name, namespace=namespace, accelerator="gpu", node_group="gpu", image="vllm/vllm-openai:v0.10.2",
        model="Qwen/Qwen3-32B-FP8", resources={"cpu": "3", "memory": "24Gi"}))


def _object(recording, kind: str, name: str) -> dict:
    return next(obj for obj in manifests(recording) if obj["kind"] == kind and obj["metadata"]["name"] == name)


def _prod_with_keys():
    config, secret_keys = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml").as_pulumi_config()
    config["vllm-eks:gatewayApiKeys"] = json.dumps({"platform": PLATFORM_KEY, "open-webui": WEBUI_KEY})
    return run_program(lambda: runpy.run_path(str(PROJECT_DIR / "__main__.py")), config=config, secret_keys=secret_keys)


def test_prod_lists_every_model_served_name_in_the_gateway_model_list():
    recording = recording_for("prod")
    listed = json.loads(_object(recording, "ConfigMap", objects.CONFIG_NAME)["data"][proxy.MODELS_FILE])
    served = [model.resolved_served_model_name for model in load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml").models]
    assert [entry["id"] for entry in listed["data"]] == sorted(served) and len(served) == 4
    assert listed["object"] == "list"


def test_adding_a_model_adds_it_to_the_model_list_and_nothing_else_changes_the_router():
    one, two = [_model("alpha")], [_model("alpha"), _model("beta")]
    assert json.loads(proxy.models_document(two))["data"][1]["id"] == "beta"
    # Discovery finds the new model's pods by labels all model servers share: the command line stays.
    assert router_args(GATEWAY, one) == router_args(GATEWAY, two)


def test_team_keys_never_appear_in_the_plan_manifests_config_map_or_outputs():
    recording = _prod_with_keys()
    rendered = json.dumps([plan(recording), manifests(recording), recording.outputs, recording.warnings])
    assert PLATFORM_KEY not in rendered and WEBUI_KEY not in rendered
    secret = recording.one("kubernetes:core/v1:Secret", "gateway-keys")
    assert secret.inputs["stringData"] == {proxy.KEYS_FILE: "[secret]"}
    config_map = _object(recording, "ConfigMap", objects.CONFIG_NAME)
    assert "Bearer" not in config_map["data"]["nginx.conf"]


def test_the_keys_file_maps_each_key_to_its_team_and_nothing_else():
    text = proxy.keys_file({"platform": PLATFORM_KEY, "open-webui": WEBUI_KEY})
    assert f'"Bearer {PLATFORM_KEY}" "platform";' in text and f'"Bearer {WEBUI_KEY}" "open-webui";' in text
    assert 'default "";' in text


def test_each_team_gets_its_own_rate_and_concurrency_limit():
    conf = proxy.nginx_conf(GATEWAY)
    assert "limit_req_zone $team_platform zone=rate_platform:1m rate=120r/m;" in conf
    assert "limit_req zone=rate_platform burst=5 nodelay;" in conf
    assert "limit_conn conn_platform 3;" in conf
    assert "limit_req_status 429;" in conf and "limit_conn_status 429;" in conf


def test_the_proxy_strips_the_key_streams_and_passes_only_inference_paths_to_the_router():
    conf = proxy.nginx_conf(GATEWAY)
    assert 'proxy_set_header Authorization "";' in conf and "proxy_buffering off;" in conf
    assert "location ~ ^/v1/(chat/completions|completions)$" in conf
    assert "location / { return 404" in conf


def test_the_router_listens_on_loopback_and_discovers_model_server_pods_by_label():
    args = router_args(GATEWAY, [_model("alpha")])
    assert args[args.index("--host") + 1] == "127.0.0.1" and "--enable-igw" in args
    selector = args[args.index("--selector") + 1:args.index("--service-discovery-port")]
    assert selector == ["app.kubernetes.io/component=model-server", "app.kubernetes.io/part-of=vllm-eks"]
    assert args[args.index("--service-discovery-namespace") + 1] == "vllm"


def test_discovery_is_namespaced_for_one_model_namespace_and_cluster_wide_for_several():
    one = objects.discovery_rbac_objects(GATEWAY, [_model("alpha")])
    assert [obj["kind"] for obj in one] == ["Role", "RoleBinding"] and one[0]["metadata"]["namespace"] == "vllm"
    assert one[0]["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
    models = [_model("alpha"), _model("beta", namespace="team-b")]
    several = objects.discovery_rbac_objects(GATEWAY, models)
    assert [obj["kind"] for obj in several] == ["ClusterRole", "ClusterRoleBinding"]
    assert discovery_namespace(models) is None and "--service-discovery-namespace" not in router_args(GATEWAY, models)


def test_every_model_network_policy_admits_the_gateway_namespace():
    recording = recording_for("prod")
    policies = [obj for obj in manifests(recording) if obj["kind"] == "NetworkPolicy" and obj["metadata"]["namespace"] == "vllm"
                and obj["spec"].get("ingress")]
    assert len(policies) == 4
    for policy in policies:
        peers = policy["spec"]["ingress"][0]["from"]
        assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "vllm-gateway"}}} in peers


def test_the_gateway_pods_run_unprivileged_with_probes_and_read_only_roots():
    deployment = _object(recording_for("prod"), "Deployment", objects.NAME)
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        context = container["securityContext"]
        assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"] and context["capabilities"] == {"drop": ["ALL"]}
        assert container["readinessProbe"]["httpGet"]["port"] == proxy.PROXY_PORT and "livenessProbe" in container


def test_the_dev_stack_has_no_gateway():
    assert not any(obj["metadata"].get("namespace") == "vllm-gateway" for obj in manifests(recording_for("dev")))


def test_the_rendered_nginx_conf_is_the_builder_output():
    # The end-to-end stage runs NGINX from this ConfigMap: it must be exactly what the builder makes.
    conf = _object(recording_for("prod"), "ConfigMap", objects.CONFIG_NAME)["data"]["nginx.conf"]
    stack = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    assert conf == proxy.nginx_conf(stack.gateway)
    assert yaml.safe_load(yaml.safe_dump({"conf": conf}))["conf"] == conf


def test_the_gateway_service_monitor_is_valid_against_the_pinned_prometheus_operator_crd():
    from tests.test_prometheus_crds import errors
    from vllm_eks.config.stack import MonitoringConfig

    monitor = objects.service_monitor_object(GATEWAY, MonitoringConfig(service_monitors=True))
    assert errors(monitor) == []
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["metrics", objects.HOLD_METRICS]
    service_ports = {port["name"] for port in objects.service_object(GATEWAY)["spec"]["ports"]}
    assert {"metrics", objects.HOLD_METRICS} <= service_ports


def test_prod_holds_every_model_for_its_predicted_time_from_zero_capped_at_max_hold_seconds():
    stack = load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    data = _object(recording_for("prod"), "ConfigMap", objects.CONFIG_NAME)["data"]
    held = json.loads(data[hold.HOLDS_FILE])["models"]
    assert sorted(held) == sorted(m.resolved_served_model_name for m in stack.models)
    assert all(0 < h["holdSeconds"] <= stack.gateway.max_hold_seconds and h["retryAfterSeconds"] >= KEDA_POLLING_SECONDS
               for h in held.values())
    assert data[hold.SCRIPT_FILE] == hold.SCRIPT and "js_content gateway_hold.hold;" in data["nginx.conf"]


def test_a_hold_is_the_scale_out_from_zero_unless_the_client_timeout_cap_is_shorter():
    from vllm_eks.config.gateway_hold import HoldTime, hold_times
    from vllm_eks.config.validation import validate_stack

    validated = validate_stack(load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"))
    generous = GATEWAY.model_copy(update={"max_hold_seconds": 3600, "request_timeout_seconds": 3600})
    for name, time in hold_times(validated.placed, generous, 15).items():
        assert time.hold_seconds == time.predicted_seconds and not time.capped, name
    short = GATEWAY.model_copy(update={"max_hold_seconds": 60})
    for time in hold_times(validated.placed, short, 15).values():
        assert isinstance(time, HoldTime) and time.hold_seconds == 60
        assert time.retry_after_seconds == time.predicted_seconds - 60
