"""Cluster access: which `cluster.admins` items get an access entry depends on who created the cluster
(recorded in `cluster.creatorArn`), never on who runs this `pulumi up` (config/platform/access.py)."""

from __future__ import annotations

import pytest

from vllm_eks.config.errors import ConfigError
from vllm_eks.config.platform.access import (
    ClusterCreator,
    access_warnings,
    admins_with_entries,
    caller_has_access,
    cluster_creator,
    skipped_admins,
)
from vllm_eks.config.platform.cluster import ClusterConfig

CREATOR = "arn:aws:iam::123456789012:role/platform-admins"
CI_ROLE = "arn:aws:iam::123456789012:role/ci/vllm-eks-deployer"
CI_SESSION = "arn:aws:sts::123456789012:assumed-role/vllm-eks-deployer/github-run-7"
ADMINS = [{"principalArn": CREATOR}, {"principalArn": CI_ROLE}]


def test_a_ci_run_keeps_cis_own_entry_and_adds_none_for_the_recorded_creator():
    cluster = ClusterConfig(admins=ADMINS, creator_arn=CREATOR)
    creator = cluster_creator(cluster, caller_arn=CI_SESSION)
    assert creator == ClusterCreator(CREATOR, recorded=True)
    assert [index for index, _ in admins_with_entries(cluster, creator)] == [1]
    assert skipped_admins(cluster, creator) == ["cluster.admins[0]"]
    assert caller_has_access(cluster, creator, CI_SESSION)


def test_the_entries_are_the_same_whoever_runs_pulumi_up_once_the_creator_is_recorded():
    cluster = ClusterConfig(admins=ADMINS, creator_arn=CREATOR)
    by_caller = {
        caller: [index for index, _ in admins_with_entries(cluster, cluster_creator(cluster, caller))]
        for caller in (CI_SESSION, "arn:aws:sts::123456789012:assumed-role/platform-admins/alice", None)
    }
    assert set(map(tuple, by_caller.values())) == {(1,)}


def test_without_a_recorded_creator_the_caller_is_assumed_and_a_stack_warning_says_what_that_breaks():
    cluster = ClusterConfig(admins=ADMINS)
    creator = cluster_creator(cluster, caller_arn=CI_SESSION)
    assert creator == ClusterCreator(CI_SESSION, recorded=False)
    assert skipped_admins(cluster, creator) == ["cluster.admins[1]"]
    [warning] = access_warnings(cluster)
    assert warning.startswith("cluster.creatorArn: not set")
    assert "409 ResourceInUseException" in warning and "deleted" in warning
    assert access_warnings(ClusterConfig(admins=ADMINS, creator_arn=CREATOR)) == []
    assert access_warnings(ClusterConfig()) == []


def test_a_caller_that_is_neither_creator_nor_admin_is_told_it_cannot_reach_the_api():
    cluster = ClusterConfig(admins=[{"principalArn": CI_ROLE}], creator_arn=CREATOR)
    creator = cluster_creator(cluster, None)
    assert creator is not None
    assert not caller_has_access(cluster, creator, "arn:aws:iam::123456789012:user/mallory")


@pytest.mark.parametrize("arn, ok", [
    (CREATOR, True),
    ("arn:aws:iam::123456789012:user/alice", True),
    (CI_SESSION, True),
    ("arn:aws:iam::123456789012:root", False),
    ("platform-admins", False),
])
def test_creator_arn_takes_a_role_a_user_or_a_session_of_a_role(arn, ok):
    if ok:
        assert ClusterConfig(creator_arn=arn).creator_arn == arn
    else:
        with pytest.raises(ConfigError, match="an IAM role or user ARN"):
            ClusterConfig(creator_arn=arn)


def test_the_readme_and_the_platform_doc_state_the_same_access_rule():
    from tests.conftest import PROJECT_DIR
    for doc in ("README.md", "docs/platform.md"):
        text = " ".join((PROJECT_DIR / doc).read_text().split())
        assert "`cluster.creatorArn`" in text, doc
        assert "skipped at run time" not in text, doc  # the old, caller-based rule
