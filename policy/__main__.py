"""The vllm-eks policy pack: `pulumi preview --policy-pack path/to/policy` on any stack."""

from pulumi_policy import EnforcementLevel, PolicyPack
from vllm_policies import POLICIES

PolicyPack(name="vllm-serving", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
