"""The EKS version table decides the default version, warns on extended support and refuses ended versions."""

from __future__ import annotations

from datetime import date

import pytest

from tests.config.stacks import REACHABLE_CLUSTER, parse_stack
from vllm_eks.config.errors import ConfigError
from vllm_eks.config.loader import validate_stack_config
from vllm_eks.config.platform.cluster import ClusterConfig
from vllm_eks.config.platform.kubernetes_versions import (
    DEFAULT_KUBERNETES_VERSION,
    EKS_VERSIONS,
    PUBLISHED_WITHOUT_DATES,
    TABLE_AS_OF,
    Support,
    in_standard_support,
    support,
    version_note,
)
from vllm_eks.config.platform.region import region_issues
from vllm_eks.config.platform.rules import platform_issues, platform_warnings


def test_the_default_is_the_newest_version_in_standard_support_on_the_tables_date():
    assert DEFAULT_KUBERNETES_VERSION == "1.35" == ClusterConfig().kubernetes_version
    assert support(DEFAULT_KUBERNETES_VERSION, TABLE_AS_OF) is Support.STANDARD
    assert in_standard_support(TABLE_AS_OF)[0] == DEFAULT_KUBERNETES_VERSION


def test_support_follows_the_calendar_dates_on_either_side_of_them():
    assert support("1.34", date(2026, 12, 1)) is Support.STANDARD
    assert support("1.34", date(2026, 12, 2)) is Support.EXTENDED
    assert support("1.33", date(2026, 7, 28)) is Support.STANDARD
    assert support("1.33", TABLE_AS_OF) is Support.EXTENDED
    assert support("1.31", TABLE_AS_OF) is Support.ENDED
    assert support("1.36", TABLE_AS_OF) is Support.UNKNOWN
    # Every row: 12 months of extended support after standard support.
    assert all((row.end_of_extended_support - row.end_of_standard_support).days in (365, 366) for row in EKS_VERSIONS.values())


def test_a_version_in_extended_support_is_a_warning_naming_its_dates_and_the_versions_to_move_to():
    stack = parse_stack({"cluster": {**REACHABLE_CLUSTER, "kubernetesVersion": "1.33"}})
    assert platform_warnings(stack, today=TABLE_AS_OF) == [
        "cluster.kubernetesVersion: Kubernetes 1.33 left EKS standard support on 2026-07-29: extended support costs "
        "extra per cluster hour and ends on 2027-07-29; upgrade one minor version at a time to one in standard "
        "support (1.35, the default)"
    ]
    assert platform_issues(stack, today=TABLE_AS_OF) == []


def test_a_version_past_extended_support_is_an_error_at_its_key():
    stack = parse_stack({"cluster": {**REACHABLE_CLUSTER, "kubernetesVersion": "1.35"}})
    ended = stack.model_copy(update={"cluster": stack.cluster.model_copy(update={"kubernetes_version": "1.31"})})
    [issue] = platform_issues(ended, today=TABLE_AS_OF)
    assert (issue.path, issue.message) == (
        "cluster.kubernetesVersion",
        "Kubernetes 1.31 reached the end of EKS extended support on 2026-11-26: EKS creates no cluster on it and "
        "upgrades existing ones itself; use a version in standard support (1.35, the default)",
    )


def test_a_version_the_table_lacks_is_a_warning_to_check_the_calendar():
    _, message = version_note("1.37", TABLE_AS_OF)
    assert message == (
        "Kubernetes 1.37 is not in the EKS version table (config/platform/kubernetes_versions.py, as of 2026-12-01); "
        "check it against https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html and add its "
        "support dates, or use one in standard support (1.35, the default)"
    )


@pytest.mark.parametrize("region", ["us-west-2", "ap-southeast-1", "us-gov-west-1", "eu-central-2", None])
def test_region_names_pass_the_offline_check(region):
    assert region_issues(region) == []


def test_a_zone_given_as_the_region_is_refused_with_the_region_it_belongs_to():
    [issue] = region_issues("us-west-2a")
    assert (issue.path, issue.message) == (
        "aws:region",
        "'us-west-2a' is an availability zone, not a region; set `aws:region` to 'us-west-2' "
        "(`pulumi config set aws:region us-west-2`) and pick zones with cluster.vpc.availabilityZones",
    )
    [local_zone] = region_issues("us-west-2-lax-1a")
    assert local_zone.message.startswith("'us-west-2-lax-1a' is an availability zone, not a region; set `aws:region` to 'us-west-2'")


def test_a_region_that_is_no_region_name_is_refused():
    [issue] = region_issues("Oregon")
    assert (issue.path, issue.message) == ("aws:region", "'Oregon' is not an AWS region name; write it like 'us-west-2'")


def test_a_bad_region_fails_stack_validation_with_the_other_problems_before_anything_registers():
    with pytest.raises(ConfigError) as raised:
        validate_stack_config({"cluster": REACHABLE_CLUSTER}, region="us-west-2a")
    assert [issue.path for issue in raised.value.issues] == ["aws:region"]


def test_eks_1_36_is_published_but_undated_and_its_warning_says_what_is_missing_with_the_date_it_was_checked():
    status, message = version_note("1.36", TABLE_AS_OF)
    assert status is Support.UNKNOWN and "1.36" not in EKS_VERSIONS
    assert message.startswith("Kubernetes 1.36 is not in the EKS version table yet: EKS has published it (")
    assert "2026-12-03" in message and "kube-scheduler" in message and "v1.36.0-rc.0" in message
    assert "add its row (and a kube-scheduler tag in config/scheduler_catalog.py" in message
    assert set(PUBLISHED_WITHOUT_DATES).isdisjoint(EKS_VERSIONS)


def test_the_platform_doc_lists_every_row_of_the_version_table_with_its_kube_scheduler_tag():
    from tests.conftest import PROJECT_DIR
    from vllm_eks.config.scheduler_catalog import SCHEDULERS

    doc = (PROJECT_DIR / "docs" / "platform.md").read_text()
    section = doc[doc.index("## Kubernetes versions"):doc.index("## Known limits")]
    rows = {line.split("|")[1].strip().split(" ")[0]: [cell.strip() for cell in line.split("|")[2:5]]
            for line in section.splitlines() if line.startswith("| 1.")}
    tags = SCHEDULERS["my-scheduler"].kube_scheduler_tags
    assert rows == {
        version: [row.end_of_standard_support.isoformat(), row.end_of_extended_support.isoformat(),
                  f"`{tags[version]}`" if version in tags else "none pinned"]
        for version, row in EKS_VERSIONS.items()
    }
    assert f"| {DEFAULT_KUBERNETES_VERSION} (default) |" in section
    assert "**Kubernetes 1.36 (note of 2026-12-03).**" in section


def test_the_readme_states_the_default_endpoint_access_the_rules_enforce():
    from tests.conftest import PROJECT_DIR
    from vllm_eks.config.platform.rules import endpoint_issues

    readme = " ".join((PROJECT_DIR / "README.md").read_text().split())
    assert ClusterConfig().endpoint_public_access_cidrs == [] and endpoint_issues(ClusterConfig())
    assert "Left empty, the default, the public endpoint is off" in readme
    assert "refused for a stack that creates its own VPC" in readme
    assert "the default, as in `prod`, is no public endpoint" not in readme
