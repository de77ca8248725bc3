using System.Diagnostics;
using System.Text;
using CausalEval.Core.Running;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace CausalEval.Models.Tests;

/// <summary>
/// OpenTelemetry of chat models: Microsoft.Extensions.AI's GenAI spans and metrics for each call, nested in the harness's
/// step and trial spans (in-memory exporter), and the tool's OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set
/// (a fake OTLP/HTTP collector), with <c>--verbose</c> logging each call.
/// </summary>
public class TelemetryTests
{
    [Fact]
    public async Task A_chat_call_exports_a_gen_ai_span_under_its_step_and_trial_and_token_and_cost_metrics()
    {
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using var server = new ScriptedServer(new Reply(200, ScriptedServer.Completion("ACTION: do(A = 5)", input: 321, output: 12)));
        var model = $"openai-compatible/m@{server.BaseUrl}"; // the port makes the id this test's own
        var policy = new CallPolicy
        {
            Cache = new CacheSettings(Enabled: false),
            Prices = new PriceTable([new ModelPrice("openai-compatible/*", 2, 10)], "test"),
        };
        using (var traces = Sdk.CreateTracerProviderBuilder().AddSource(RunTelemetry.Name, ChatProviders.TelemetrySource).AddInMemoryExporter(spans).Build())
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeter(RunTelemetry.Name, ChatProviders.TelemetrySource).AddInMemoryExporter(metrics).Build())
        {
            var trial = Assert.Single(await Pipeline.RunAsync(new FakeClock(), policy, [model]));
            Assert.Null(trial.Error);
            traces.ForceFlush();
            meters.ForceFlush();

            var trialSpan = Assert.Single(spans, s => s.OperationName == "causaleval.trial" && (string?)s.GetTagItem("causaleval.model") == model);
            var step = Assert.Single(spans, s => s.OperationName == "causaleval.step" && s.ParentSpanId == trialSpan.SpanId);
            var chat = Assert.Single(spans, s => s.ParentSpanId == step.SpanId);
            Assert.Equal(ChatProviders.TelemetrySource, chat.Source.Name);
            Assert.Equal("chat", chat.GetTagItem("gen_ai.operation.name"));
            Assert.Equal("m", chat.GetTagItem("gen_ai.request.model"));
            Assert.Equal(321, Convert.ToInt64(chat.GetTagItem("gen_ai.usage.input_tokens")));
            Assert.Equal(12, Convert.ToInt64(chat.GetTagItem("gen_ai.usage.output_tokens")));
            // Prompts and answers stay out of telemetry.
            Assert.DoesNotContain(chat.TagObjects, t => t.Value is string text && text.Contains("ACTION", StringComparison.Ordinal));

            Assert.Equal(321, Sum(metrics, "causaleval.tokens", model, "input"));
            Assert.Equal(12, Sum(metrics, "causaleval.tokens", model, "output"));
            Assert.Equal(1, Sum(metrics, "causaleval.calls", model, null));
            Assert.Equal(0, Sum(metrics, "causaleval.retries", model, null));
            Assert.Equal((321 * 2 + 12 * 10) / 1e6, SumDouble(metrics, "causaleval.cost", model), 12);
            // The GenAI token histogram (its own tags name the model as sent, not the id).
            Assert.Contains(metrics, m => m.Name == "gen_ai.client.token.usage");
            Assert.Contains(metrics, m => m.Name == "gen_ai.client.operation.duration");
        }
    }

    [Fact]
    public void With_the_OTLP_endpoint_set_the_tool_exports_spans_and_metrics_and_verbose_logs_each_call_and_without_it_nothing_is_sent()
    {
        using var collector = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{AnthropicServer.FreePort()}"] });
        collector.Given(Request.Create().WithPath("/v1/*").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        using var chat = new ScriptedServer(new Reply(200, ScriptedServer.Completion("ACTION: do(A = 5)", input: 77, output: 5)));
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-otlp-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] Args(string run) =>
            [
                "run", "--datasets", Repo.Datasets, "--task", "passive-exploit-interventional", "--model", $"openai-compatible/m@{chat.BaseUrl}",
                "--prompt", "zero-shot", "--episodes", "1", "--out", Path.Combine(folder, run), "--quiet", "--no-cache", "--verbose",
            ];
            var exported = Cli.Run(folder, new Dictionary<string, string>
            {
                ["OPENAI_COMPATIBLE_API_KEY"] = "k",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url!,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_SERVICE_NAME"] = "otlp-test-service",
            }, Args("with"));

            Assert.True(exported.Code == 0, exported.Error);
            var bodies = collector.LogEntries.GroupBy(e => e.RequestMessage.Path, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.SelectMany(e => e.RequestMessage.BodyAsBytes ?? []).ToArray(), StringComparer.Ordinal);
            // OTLP/HTTP protobuf: names and string attributes travel as UTF-8 inside the message.
            var traces = Encoding.UTF8.GetString(Assert.Contains("/v1/traces", bodies));
            foreach (var name in new[] { "causaleval.run", "causaleval.trial", "causaleval.step", "gen_ai.usage.input_tokens", "otlp-test-service" })
            {
                Assert.Contains(name, traces, StringComparison.Ordinal);
            }
            var sent = Encoding.UTF8.GetString(Assert.Contains("/v1/metrics", bodies));
            Assert.Contains("causaleval.trials", sent, StringComparison.Ordinal);
            Assert.Contains("gen_ai.client.token.usage", sent, StringComparison.Ordinal);
            // --verbose: the chat pipeline's ILogger lines on standard error.
            Assert.Contains("GetResponseAsync", exported.Error, StringComparison.Ordinal);

            var before = collector.LogEntries.Count();
            var quiet = Cli.Run(folder, new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" }, Args("without"));
            Assert.True(quiet.Code == 0, quiet.Error);
            Assert.Equal(before, collector.LogEntries.Count());
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static IEnumerable<(Dictionary<string, object?> Tags, MetricPoint Point)> Points(List<MetricSnapshot> metrics, string name)
    {
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (var point in metric.MetricPoints)
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }
                yield return (tags, point);
            }
        }
    }

    /// <summary>The total of a cumulative counter for the model (and token type); the last export holds it.</summary>
    private static long Sum(List<MetricSnapshot> metrics, string name, string model, string? tokenType) =>
        Points(metrics, name)
            .Where(p => Equals(p.Tags.GetValueOrDefault("causaleval.model"), model)
                && (tokenType is null || Equals(p.Tags.GetValueOrDefault("gen_ai.token.type"), tokenType)))
            .GroupBy(p => string.Join(",", p.Tags.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")))
            .Sum(g => g.Max(p => p.Point.GetSumLong()));

    private static double SumDouble(List<MetricSnapshot> metrics, string name, string model) =>
        Points(metrics, name).Where(p => Equals(p.Tags.GetValueOrDefault("causaleval.model"), model)).Select(p => p.Point.GetSumDouble()).DefaultIfEmpty(0).Max();
}
