"""What is monitored, as `preview` and `render` say it, and the warning for monitoring off with several replicas."""

from __future__ import annotations

from tests.conftest import PROJECT_DIR
from vllm_eks.preview.cli import EXIT_WARNINGS_STRICT, main
from vllm_eks.preview.monitoring_summary import MONITORING_FILE


def test_the_workshop_stack_previews_with_monitoring_off_and_no_monitoring_warning(capsys):
    assert main(["preview", "--stack", "dev", "--project-dir", str(PROJECT_DIR)]) == 0
    captured = capsys.readouterr()
    assert "\nMonitoring:\n  backend: off\n" in captured.out
    assert "monitoring." not in captured.err


def test_monitoring_off_with_two_replicas_warns_at_its_key_and_strict_fails_on_it(project, capsys):
    text = (project / "Pulumi.dev.yaml").read_text()
    text = text.replace("      minSize: 2\n", "      minSize: 3\n", 1)
    text = text.replace("      servedModelName: qwen3-8b-fp8-neuron\n", "      servedModelName: qwen3-8b-fp8-neuron\n      replicas: 2\n", 1)
    (project / "Pulumi.dev.yaml").write_text(text)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project)]) == 0
    assert ("warning: monitoring.backend: off, but models[1] 'qwen3-8b-fp8-neuron' (2 replicas) share load across replicas"
            in capsys.readouterr().err)
    assert main(["preview", "--stack", "dev", "--project-dir", str(project), "--strict"]) == EXIT_WARNINGS_STRICT


def test_prod_preview_names_the_chart_its_version_the_query_url_and_the_exporters(capsys):
    assert main(["preview", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert ("  chart: kube-prometheus-stack 88.5.3 from https://prometheus-community.github.io/helm-charts, "
            "release kube-prometheus-stack in monitoring (values in plan.json)") in out
    assert "  Prometheus query URL: http://kube-prometheus-stack-prometheus.monitoring.svc:9090" in out
    assert "  hardware exporters: dcgm-exporter, neuron-monitor" in out


def test_render_writes_what_is_monitored_next_to_the_plan(tmp_path, capsys):
    out_dir = tmp_path / "build"
    assert main(["render", "--stack", "prod", "--project-dir", str(PROJECT_DIR), "--out", str(out_dir)]) == 0
    summary = (out_dir / MONITORING_FILE).read_text()
    assert summary.startswith("  backend: in-cluster\n")
    assert "scraped: 4 ServiceMonitors (dcgm-exporter, neuron-monitor, vllm-gateway, vllm-monitor)" in summary
    assert MONITORING_FILE in capsys.readouterr().out
