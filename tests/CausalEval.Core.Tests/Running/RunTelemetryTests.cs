using System.Diagnostics;
using CausalEval.Core.Agents;
using CausalEval.Core.Results;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CausalEval.Core.Tests.Running;

/// <summary>
/// The run's OpenTelemetry spans and metrics as an exporter sees them (the in-memory exporter): one run span, a trial span
/// per trial under it, a step span per step under its trial, failed trials marked, and trial counts by model and outcome.
/// </summary>
public class RunTelemetryTests
{
    [Fact]
    public async Task A_run_exports_a_run_span_with_a_span_per_trial_and_per_step_and_counts_trials_by_outcome()
    {
        // A display name of this test's own, so that metrics of runs in other tests (same process) are left out.
        var name = "telemetry-" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using (var traces = Sdk.CreateTracerProviderBuilder().AddSource(RunTelemetry.Name).AddInMemoryExporter(spans).Build())
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeter(RunTelemetry.Name).AddInMemoryExporter(metrics).Build())
        {
            var task = Repo.Catalog.Load("explore-exploit");
            var episodes = Repo.TestSplit("explore-exploit").Take(3).ToList();
            var test = new TestModelProvider();
            test.FailOn.Add(episodes[1].Id);
            var plan = new RunPlan
            {
                Tasks = [task], Models = ["test/flaky"], Epochs = 1, Concurrency = 2,
                ModelNames = new Dictionary<string, string> { ["test/flaky"] = name },
            };
            var store = new InMemoryResultStore();
            await new Runner(new ModelCatalog([new BuiltinModelProvider(), test]), new FixedTimeProvider())
                .RunAsync(plan, [new TaskEpisodes(task, episodes)], store, new Leaderboard());

            traces.ForceFlush();
            meters.ForceFlush();

            var run = Assert.Single(spans, s => s.OperationName == "causaleval.run" && (string?)s.GetTagItem("causaleval.models") == name);
            var mine = spans.Where(s => s.TraceId == run.TraceId).ToList();
            var trials = mine.Where(s => s.OperationName == "causaleval.trial").ToList();
            Assert.Equal(3, trials.Count);
            Assert.All(trials, t => Assert.Equal(run.SpanId, t.ParentSpanId));
            Assert.Equal(3L, run.GetTagItem("causaleval.trials.written"));
            Assert.Equal(1L, run.GetTagItem("causaleval.trials.errors"));
            Assert.Equal("completed", run.GetTagItem("causaleval.status"));
            foreach (var record in store.Records)
            {
                var trial = Assert.Single(trials, t => (string?)t.GetTagItem("causaleval.trial.id") == record.Spec.TrialId);
                Assert.Equal(name, trial.GetTagItem("causaleval.model"));
                Assert.Equal(record.Spec.Episode.Id, trial.GetTagItem("causaleval.episode"));
                var steps = mine.Where(s => s.OperationName == "causaleval.step" && s.ParentSpanId == trial.SpanId).ToList();
                if (record.Error is { } error)
                {
                    Assert.Equal(ActivityStatusCode.Error, trial.Status);
                    Assert.Equal(error.Kind, trial.GetTagItem("error.type"));
                    // Two steps answered, the third threw: its span ends as an error too.
                    Assert.Equal(3, steps.Count);
                    Assert.Single(steps, s => s.Status == ActivityStatusCode.Error);
                }
                else
                {
                    Assert.Equal(ActivityStatusCode.Unset, trial.Status);
                    Assert.Equal(record.Transcript!.Steps.Length, steps.Count);
                    Assert.Equal(record.Transcript.Steps.Select(s => s.Phase.ToString().ToLowerInvariant()),
                        steps.OrderBy(s => (int)s.GetTagItem("causaleval.step.index")!).Select(s => (string?)s.GetTagItem("causaleval.step.phase")));
                    Assert.All(steps, s => Assert.Equal("valid", s.GetTagItem("causaleval.step.status")));
                }
            }

            Assert.Equal(2, TrialCount(metrics, name, "ok"));
            Assert.Equal(1, TrialCount(metrics, name, "error"));
        }
    }

    private static long TrialCount(List<MetricSnapshot> metrics, string model, string outcome)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == "causaleval.trials"))
        {
            foreach (var point in metric.MetricPoints)
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }
                if (Equals(tags.GetValueOrDefault("causaleval.model"), model) && Equals(tags.GetValueOrDefault("causaleval.outcome"), outcome))
                {
                    total = Math.Max(total, point.GetSumLong()); // cumulative: the last export holds the total
                }
            }
        }
        return total;
    }
}
