"""Container image references as the kubelet parses them, so a typo fails here and not as
`InvalidImageName` on a Pending pod.

The grammar is the distribution reference grammar the container runtimes use
(github.com/distribution/reference, regexp.go and reference.go at v0.6.0):

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] remote-name          (at most 255 characters)
    domain           := host [":" port-number]
    host             := domain-name | "[" IPv6address "]"
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*,  separator := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := /[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}/

Repository paths are lowercase only (reference.go: ErrNameContainsUppercase).
"""

from __future__ import annotations

import re

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_NAME = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_REFERENCE = re.compile(rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
                        rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
NAME_TOTAL_LENGTH_MAX = 255
_EXAMPLE = "'public.ecr.aws/neuron/vllm:0.9.1' or 'vllm/vllm-openai@sha256:<64 hex digits>'"


def image_reference_problem(value: str) -> str | None:
    """None for a reference that parses; otherwise what is wrong and how to write it."""
    if any(character.isspace() for character in value):
        fixed = image_reference_fix(value)
        return f"{value!r} contains whitespace, which no image reference can; write {fixed!r}" if fixed else (
            f"{value!r} contains whitespace, which no image reference can; write it like {_EXAMPLE}")
    match = _REFERENCE.match(value)
    if match is None:
        return _diagnose(value)
    first, slash, _ = match["name"].partition("/")
    if slash and first != first.lower() and not any(c in first for c in ".:"):
        # Runtimes would take `vLLM/...` as a registry host named vLLM (distribution/reference
        # normalize.go, splitDockerDomain); a first component without '.' or ':' is meant as a path.
        fixed = value.replace(match["name"], match["name"].lower(), 1)
        return (f"{value!r}: the repository path {match['name']!r} has uppercase letters, and repository names "
                f"are lowercase only; write {fixed!r}")
    if len(match["name"]) > NAME_TOTAL_LENGTH_MAX:
        return f"{value!r}: the repository name is longer than {NAME_TOTAL_LENGTH_MAX} characters"
    return None


def image_reference_fix(value: str) -> str | None:
    """The reference a refused one most likely meant, when one edit makes it valid: whitespace removed (a space
    pasted after the colon), then the repository path lowercased."""
    fixed = "".join(value.split())
    name, _, _ = _split(fixed)
    domain, slash, path = name.partition("/")
    if slash and "." not in domain and ":" not in domain and domain != "localhost":
        domain, path = "", name  # the first component is part of the path, not a registry
    fixed = fixed.replace(path, path.lower(), 1)
    return fixed if fixed != value and image_reference_problem(fixed) is None else None


def _split(value: str) -> tuple[str, str | None, str | None]:
    name, _, digest = value.partition("@")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:  # a colon after the last slash starts the tag; one before it is a registry port
        name, tag = name[:colon], name[colon + 1:]
    return name, tag, (digest if "@" in value else None)


def _diagnose(value: str) -> str:
    name, tag, digest = _split(value)
    domain, _, path = name.partition("/") if "/" in name else ("", "", name)
    if domain and not ("." in domain or ":" in domain or domain == "localhost" or domain != domain.lower()):
        domain, path = "", name  # the first component is part of the path, not a registry
    if path != path.lower() and _NAME.match(f"{domain + '/' if domain else ''}{path.lower()}"):
        fixed = value.replace(path, path.lower(), 1)
        return (f"{value!r}: the repository path {path!r} has uppercase letters, and repository names are "
                f"lowercase only; write {fixed!r}")
    if not _NAME.match(name):
        return (f"{value!r}: {name!r} is not a repository name (lowercase letters, digits and the separators "
                f"'.', '_', '__' or '-' between them, components joined by '/', optionally after a registry "
                f"host); write it like {_EXAMPLE}")
    if tag is not None and not re.fullmatch(_TAG, tag):
        return (f"{value!r}: the tag {tag!r} is not valid (letters, digits, '_', '.' and '-', not starting with "
                f"'.' or '-', at most 128 characters); write it like {_EXAMPLE}")
    if digest is not None and not re.fullmatch(_DIGEST, digest):
        return (f"{value!r}: the digest {digest!r} is not valid (an algorithm, ':' and at least 32 hex digits, "
                f"such as 'sha256:' followed by 64); copy it from the registry")
    return f"{value!r} is not an image reference; write it like {_EXAMPLE}"
