"""Rules of the front door that span blocks: teams against their keys, Open WebUI against the
gateway, exposure against both, and the one port the gateway discovers every model on."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

from pydantic import SecretStr

from .aws_lb_controller import CHART_VERSION as LB_CONTROLLER_VERSION
from .errors import ConfigIssue, Fix
from .gateway import ApiKeys
from .stack import StackConfig

API_KEY = re.compile(r"^[A-Za-z0-9._~+/=-]{32,128}$")
"""Keys NGINX matches verbatim in a `map` (no quoting needed): 32 to 128 URL-safe characters."""
KEY_FIX = "generate one with `openssl rand -hex 32`"
OPEN_WEBUI_SECRETS = ("adminPassword", "secretKey")
SECRETS_FIX = ("pulumi config set --secret openWebuiSecrets "
               "'{\"adminPassword\": \"...\", \"secretKey\": \"'$(openssl rand -hex 32)'\"}'")


def readable(value: ApiKeys | None) -> dict[str, SecretStr] | None:
    """The mapping, or None when absent or when it is a `secure:` placeholder that cannot be read offline."""
    return value if isinstance(value, dict) else None


def gateway_issues(stack: StackConfig) -> list[ConfigIssue]:
    issues = _team_issues(stack) + _open_webui_issues(stack) + _exposure_issues(stack)
    if stack.gateway.enabled:
        issues += _port_issues(stack) + _key_issues(stack)
        owned = {model.namespace for model in stack.models}
        if stack.gateway.namespace in owned:
            issues.append(ConfigIssue("gateway.namespace", (
                f"{stack.gateway.namespace!r} is a model namespace; the gateway needs one of its own, since each "
                f"model namespace denies all ingress but its admitted callers; use e.g. 'vllm-gateway'")))
    return issues


def _team_issues(stack: StackConfig) -> list[ConfigIssue]:
    teams = stack.gateway.teams
    counts = Counter(team.name for team in teams)
    issues = [ConfigIssue(f"gateway.teams[{index}].name", f"team {team.name!r} is listed twice; give each team one entry")
              for index, team in enumerate(teams) if counts[team.name] > 1 and teams.index(team) != index]
    if stack.gateway.enabled and not teams:
        issues.append(ConfigIssue("gateway.teams", (
            "is empty, so every request would be refused; add a team, e.g. [{name: platform}], and its key "
            "in gatewayApiKeys"), (Fix("gateway.teams", [{"name": "platform"}]),)))
    return issues


def _key_issues(stack: StackConfig) -> list[ConfigIssue]:
    if stack.gateway_api_keys is None:
        return [ConfigIssue("gatewayApiKeys", (
            "is missing: the gateway refuses requests without a team's key; run `pulumi config set --secret "
            "gatewayApiKeys '{\"<team>\": \"<key>\"}'` with one key per gateway.teams entry"))]
    keys = readable(stack.gateway_api_keys)
    if keys is None:
        return []
    names = [team.name for team in stack.gateway.teams]
    issues = [ConfigIssue("gatewayApiKeys", f"has no key for team {name!r}; add \"{name}\": \"<key>\" ({KEY_FIX})")
              for name in names if name not in keys]
    issues += [ConfigIssue("gatewayApiKeys", f"has a key for {name!r}, which is not in gateway.teams; add the team or drop the key")
               for name in keys if name not in names]
    issues += [ConfigIssue(f"gatewayApiKeys.{name}", f"is not 32-128 letters, digits or ._~+/=-; {KEY_FIX}")
               for name, key in keys.items() if not API_KEY.match(key.get_secret_value())]
    values = Counter(key.get_secret_value() for key in keys.values())
    issues += [ConfigIssue(f"gatewayApiKeys.{name}", f"is the same key as another team's; give each team its own ({KEY_FIX})")
               for name, key in keys.items() if values[key.get_secret_value()] > 1]
    return issues


def _port_issues(stack: StackConfig) -> list[ConfigIssue]:
    if not stack.models:
        return []
    first = stack.models[0].port
    return [ConfigIssue(f"models[{index}].port", (
        f"is {model.port}, but the gateway discovers every model's pods on one port (vllm-router "
        f"--service-discovery-port) and models[0] serves on {first}; set port: {first}"), (Fix(f"models[{index}].port", first),))
        for index, model in enumerate(stack.models) if model.port != first]


def _open_webui_issues(stack: StackConfig) -> list[ConfigIssue]:
    webui = stack.open_webui
    if not webui.enabled:
        return []
    if not stack.gateway.enabled:
        return [ConfigIssue("openWebui.enabled", (
            "needs the gateway, which gives it one URL for every model; set gateway.enabled: true (with teams and "
            "their keys), or openWebui.enabled: false"), (Fix("openWebui.enabled", False),))]
    issues = _builtin_tools_issues(stack)
    if webui.team not in {team.name for team in stack.gateway.teams}:
        issues.append(ConfigIssue("openWebui.team", (
            f"{webui.team!r} is not in gateway.teams; add {{name: {webui.team}}} there (Open WebUI uses its key "
            f"and limits) or name an existing team"), (Fix("openWebui.team", stack.gateway.teams[0].name),) if stack.gateway.teams else ()))
    if stack.open_webui_secrets is None:
        issues.append(ConfigIssue("openWebuiSecrets", f"is missing: Open WebUI needs its admin password and session key; run {SECRETS_FIX}"))
        return issues
    secrets = readable(stack.open_webui_secrets)
    if secrets is not None:
        issues += [ConfigIssue("openWebuiSecrets", f"has no {name!r}; run {SECRETS_FIX}")
                   for name in OPEN_WEBUI_SECRETS if name not in secrets]
        issues += [ConfigIssue(f"openWebuiSecrets.{name}", "is shorter than 12 characters; use a longer one, e.g. `openssl rand -hex 32`")
                   for name in OPEN_WEBUI_SECRETS if name in secrets and len(secrets[name].get_secret_value()) < 12]
    return issues


def _builtin_tools_issues(stack: StackConfig) -> list[ConfigIssue]:
    """Open WebUI's built-in tools go to every model (one DEFAULT_MODEL_METADATA for all, open_webui/utils/models.py
    0.12.4), and a request carrying `tools` without `tool_choice` is "auto" tool choice, which vLLM answers with 400
    unless the server runs --enable-auto-tool-choice with a --tool-call-parser (vllm 0.10.2
    vllm/entrypoints/openai/serving_chat.py; 0.26.0, 0.32.0, 0.34.0 vllm/renderers/online_renderer.py)."""
    if not stack.open_webui.builtin_tools:
        return []
    without = [model.name for model in stack.models if not model.tool_call_parser]
    if not without:
        return []
    return [ConfigIssue("openWebui.builtinTools", (
        f"makes Open WebUI send its built-in tools with every chat, which vLLM refuses with 400 ('\"auto\" tool choice "
        f"requires --enable-auto-tool-choice and --tool-call-parser to be set') from a model without a tool-call parser: "
        f"{', '.join(without)}; set toolCallParser on {'it' if len(without) == 1 else 'each'}, or "
        f"openWebui.builtinTools: false"), (Fix("openWebui.builtinTools", False),))]


def _exposure_issues(stack: StackConfig) -> list[ConfigIssue]:
    exposure = stack.exposure
    issues = []
    for index, cidr in enumerate(exposure.allowed_cidrs):
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            issues.append(ConfigIssue(f"exposure.allowedCidrs[{index}]", f"{cidr!r} is not a network in CIDR form; write e.g. '203.0.113.0/24'"))
    if exposure.domain is None:
        return issues
    if not stack.gateway.enabled:
        issues.append(ConfigIssue("exposure.domain", "exposes the gateway, which is off; set gateway.enabled: true or drop exposure.domain"))
    if (exposure.certificate_arn is None) == (exposure.hosted_zone_id is None):
        issues.append(ConfigIssue("exposure", (
            "needs exactly one of certificateArn (an ACM certificate covering "
            f"{exposure.gateway_host}.{exposure.domain} and {exposure.open_webui_host}.{exposure.domain}) or hostedZoneId "
            "(a Route 53 zone of the domain, where a certificate is created and validated through DNS)")))
    if exposure.scheme == "internet-facing" and not exposure.allowed_cidrs:
        issues.append(ConfigIssue("exposure.allowedCidrs", (
            "is empty, so an internet-facing load balancer would admit the whole internet; list the networks "
            "your users come from, e.g. ['203.0.113.0/24'], or use scheme: internal"), (Fix("exposure.scheme", "internal"),)))
    if exposure.gateway_host == exposure.open_webui_host:
        issues.append(ConfigIssue("exposure.openWebuiHost", (
            f"is {exposure.open_webui_host!r}, the gateway's host too; one host routes to one Service, so give Open WebUI "
            f"its own, e.g. 'openwebui'"), (Fix("exposure.openWebuiHost", "openwebui" if exposure.gateway_host != "openwebui" else "chat"),)))
    if exposure.load_balancer_controller_policy_arn is None:
        # The controller's install guide (kubernetes-sigs/aws-load-balancer-controller docs/deploy/installation.md)
        # has the account create this policy from the release's docs/install/iam_policy.json.
        issues.append(ConfigIssue("exposure.loadBalancerControllerPolicyArn", (
            f"is required with domain: the AWS Load Balancer Controller {LB_CONTROLLER_VERSION}'s role needs its IAM policy; "
            f"create it once per account as docs/gateway.md shows (aws iam create-policy --policy-name "
            f"AWSLoadBalancerControllerIAMPolicy ...) and set its ARN here")))
    if exposure.external_dns and exposure.hosted_zone_id is None:
        issues.append(ConfigIssue("exposure.externalDns", "needs hostedZoneId, the zone ExternalDNS writes the records to"))
    return issues
