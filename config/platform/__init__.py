"""Platform config: the node groups models run on, the cluster and its network, the shared file system,
and the rules that span them. Imports no Pulumi."""
