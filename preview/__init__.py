"""Offline preview: run the real Pulumi program in-process under mocks, no CLI, cloud or cluster."""
