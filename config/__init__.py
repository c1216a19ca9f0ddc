"""Stack configuration: pydantic models, catalogs, sizing, placement and validation. Imports no Pulumi."""
