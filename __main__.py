"""The vllm-eks program: load and validate this stack's config, then wire the components."""

import pulumi

from vllm_eks.components.exposure import Exposure, ExposureArgs
from vllm_eks.components.fleet_monitoring import FleetMonitoring, FleetMonitoringArgs
from vllm_eks.components.gateway import Gateway, GatewayArgs, team_keys
from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.open_webui import OpenWebUi, OpenWebUiArgs, open_webui_secrets
from vllm_eks.components.platform import autoscaler_dependencies, build_platform, model_dependencies, storage_dependencies
from vllm_eks.components.stack_config import load_stack_config
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs
from vllm_eks.config.gateway_hold import hold_times

validated = load_stack_config()
stack = validated.stack
platform = build_platform(validated)
on_cluster = pulumi.ResourceOptions(provider=platform.provider)
hf_token = pulumi.Output.secret(stack.hf_token.get_secret_value()) if stack.hf_token else None

namespaces = {
    name: ModelNamespace(name, ModelNamespaceArgs(
        name=name,
        neuron_cache=any(m.has_compile_cache for m in models),
        hf_token=hf_token,
        cache_volumes=stack.cache_volumes,
        network_policy=stack.network_policy,
        monitoring=stack.monitoring,
        gateway_namespace=stack.gateway.namespace if stack.gateway.enabled else None,
        claims_depend_on=storage_dependencies(platform),
        service_monitor_depends_on=platform.monitoring.ready,
    ), on_cluster)
    for name, models in stack.namespaces().items()
}

endpoints = {}
for placed in validated.placed:
    model = placed.model
    served = VllmModel(model.name, VllmModelArgs(
        model=model,
        node_group=placed.group,
        namespace=namespaces[model.namespace],
        monitoring=stack.monitoring,
        depends_on=model_dependencies(platform, model),
        placement=placed,
        autoscaler=autoscaler_dependencies(platform),
    ), on_cluster)
    endpoints[model.name] = served.endpoint

if stack.monitoring.service_monitors:
    FleetMonitoring("fleet-monitoring", FleetMonitoringArgs(
        models=[placed.model for placed in validated.placed], monitoring=stack.monitoring,
        depends_on=platform.monitoring.ready,
    ), on_cluster)

if stack.gateway.enabled:
    gateway = Gateway("gateway", GatewayArgs(
        gateway=stack.gateway, models=list(stack.models), keys=team_keys(stack), monitoring=stack.monitoring,
        holds=hold_times(validated.placed, stack.gateway, stack.monitoring.scrape_interval_seconds),
        service_monitor_depends_on=platform.monitoring.ready,
    ), on_cluster)
    front_door: list[pulumi.Resource] = [gateway.service]
    urls = {"gatewayUrl": gateway.url}
    if stack.open_webui.enabled:
        webui = OpenWebUi("open-webui", OpenWebUiArgs(
            gateway=stack.gateway, webui=stack.open_webui, secrets=open_webui_secrets(stack), depends_on=(gateway.namespace_resource,),
            claim_depends_on=storage_dependencies(platform),
        ), on_cluster)
        front_door.append(webui.service)
        urls["openWebuiUrl"] = webui.url
    if stack.exposure.domain is not None:
        exposure = Exposure("exposure", ExposureArgs(
            exposure=stack.exposure, gateway=stack.gateway, open_webui=stack.open_webui.enabled,
            cluster_name=platform.cluster_name, vpc_id=platform.cluster.vpc_id,
            region=str(pulumi.Config("aws").require("region")), provider=platform.provider, depends_on=front_door,
        ))
        urls["gatewayUrl"] = pulumi.Output.from_input(exposure.gateway_url)
        if stack.open_webui.enabled:
            urls["openWebuiUrl"] = pulumi.Output.from_input(exposure.open_webui_url)
    for key, url in urls.items():
        pulumi.export(key, url)

pulumi.export("clusterName", platform.cluster_name)
pulumi.export("kubeconfig", platform.kubeconfig)
pulumi.export("modelEndpoints", endpoints)
