"""One `VllmModel` on an existing cluster, reached through its kubeconfig: no VPC, EKS or node group.

Every key below is this project's own (`team-llm:*`): vllm-eks reads no config here, it only
checks the `ModelConfig` and `NodeGroupConfig` this program builds, before anything registers.
"""

import pulumi
import pulumi_kubernetes as k8s

from vllm_eks import ModelConfig, NodeGroupConfig, VllmModel, VllmModelArgs

settings = pulumi.Config()

# The cluster: its kubeconfig (file contents, a secret) and, optionally, which context to use.
provider = k8s.Provider(
    "existing-cluster",
    kubeconfig=settings.require_secret("kubeconfig"),
    context=settings.get("kubeContext"),
)

# The nodes the model runs on, described rather than created: sizing and placement are checked
# against this instance type, and its accelerator decides the toleration the pod gets.
nodes = NodeGroupConfig(
    name=settings.get("nodePool") or "gpu",
    instance_type=settings.get("instanceType") or "g6e.xlarge",
    max_size=settings.get_int("maxNodes") or 1,
)

model = VllmModel(
    "assistant",
    VllmModelArgs(
        model=ModelConfig(
            name="qwen3-8b",
            namespace=settings.get("namespace") or "llm",
            accelerator="gpu",
            node_group=nodes.name,
            image="vllm/vllm-openai:v0.10.2",
            model="Qwen/Qwen3-8B",
            max_model_len=settings.get_int("maxModelLen") or 16384,
            replicas=settings.get_int("replicas") or 1,
            resources={"cpu": "3", "memory": "24Gi"},
        ),
        node_group=nodes,
        hf_token=settings.require_secret("hfToken"),
        # These nodes were not made by vllm-eks, so they lack its labels: select what they carry.
        node_selector={"node.kubernetes.io/instance-type": nodes.instance_type, **settings.get_object("nodeSelector", {})},
    ),
    pulumi.ResourceOptions(provider=provider),
)

pulumi.export("endpoint", model.endpoint)
pulumi.export("namespace", model.namespace)
