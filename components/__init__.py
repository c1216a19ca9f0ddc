"""Pulumi components for vLLM on EKS; each registers the objects its pure builder returns."""
