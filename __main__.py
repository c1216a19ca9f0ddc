"""The vllm-eks program: load and validate this stack's config, then wire the components."""

import pulumi

from vllm_eks.components.fleet_monitoring import FleetMonitoring, FleetMonitoringArgs
from vllm_eks.components.model_namespace import ModelNamespace, ModelNamespaceArgs
from vllm_eks.components.platform import build_platform, model_dependencies, storage_dependencies
from vllm_eks.components.stack_config import load_stack_config
from vllm_eks.components.vllm_model import VllmModel, VllmModelArgs

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
        claims_depend_on=storage_dependencies(platform),
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
    ), on_cluster)
    endpoints[model.name] = served.endpoint

if stack.monitoring.service_monitors:
    FleetMonitoring("fleet-monitoring", FleetMonitoringArgs(
        models=[placed.model for placed in validated.placed], monitoring=stack.monitoring,
    ), on_cluster)

pulumi.export("clusterName", platform.cluster_name)
pulumi.export("kubeconfig", platform.kubeconfig)
pulumi.export("modelEndpoints", endpoints)
