using CausalEval.Core.Episodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

/// <summary>How a run stops early: a dead endpoint, and a Ctrl-C while trials are only waiting.</summary>
public sealed class RunnerStopTests
{
    private static IReadOnlyList<TaskEpisodes> Suite() =>
        [new TaskEpisodes(Repo.Catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(10)])];

    private static RunPlan Plan(IReadOnlyList<TaskEpisodes> tasks, int concurrency, params string[] models) =>
        new() { Tasks = [.. tasks.Select(t => t.Task)], Models = models, Epochs = 1, Seed = 1, Concurrency = concurrency };

    [Fact]
    public async Task A_model_whose_circuit_stays_open_is_no_longer_scheduled_and_the_rest_of_the_plan_runs()
    {
        var tasks = Suite();
        var test = new TestModelProvider();
        var store = new InMemoryResultStore();
        var runner = new Runner(new ModelCatalog([new BuiltinModelProvider(), test]), new FixedTimeProvider());

        var outcome = await runner.RunAsync(Plan(tasks, 1, "builtin/expert", "test/down"), tasks, store, new Leaderboard());

        // Every expert trial is played; test/down only until it has failed twice in a row with an open circuit.
        Assert.Equal(10, store.Records.Count(r => r.Spec.Model == "builtin/expert" && r.Error is null));
        Assert.Equal(runner.DeadAfterOpenCircuits, store.Records.Count(r => r.Spec.Model == "test/down"));
        Assert.Equal(["test/down"], outcome.StoppedModels.Keys);
        Assert.Contains("circuit breaker open", outcome.StoppedModels["test/down"]);
        Assert.StartsWith("test/down: not scheduled any more", outcome.FailureReason);
        Assert.False(outcome.Cancelled);
        Assert.Equal(20, outcome.Planned);
        Assert.Equal(12, outcome.Written);
    }

    [Fact]
    public async Task A_run_stopped_by_a_dead_endpoint_ends_failed_in_run_json_with_the_reason()
    {
        var tasks = Suite();
        var root = Path.Combine(Path.GetTempPath(), $"dead-{Guid.NewGuid():N}");
        try
        {
            var session = RunSession.Start(Plan(tasks, 2, "test/down", "builtin/expert"), tasks, Repo.Catalog, new RunIdentity(), root, new FixedTimeProvider());
            var result = await session.RunAsync(new ModelCatalog([new BuiltinModelProvider(), new TestModelProvider()]), new FixedTimeProvider());

            Assert.Equal(RunStatus.Failed, result.Status);
            var manifest = RunManifest.Load(root);
            Assert.Contains("test/down", manifest.FailureReason);
            Assert.Contains("\"stopped_models\"", File.ReadAllText(Path.Combine(root, RunManifest.FileName)));
            Assert.True(manifest.TrialsWritten < manifest.TrialsPlanned);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task After_a_stop_trials_that_only_wait_are_abandoned_at_the_end_of_the_grace_period()
    {
        var tasks = Suite();
        var test = new TestModelProvider();
        var time = new FakeTimeProvider();
        var store = new InMemoryResultStore();
        var runner = new Runner(new ModelCatalog([new BuiltinModelProvider(), test]), time) { StopGrace = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();

        var run = runner.RunAsync(Plan(tasks, 3, "test/stuck"), tasks, store, new Leaderboard(), stopScheduling: stop.Token);
        await test.Started.WaitForAsync(3);
        await stop.CancelAsync();
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(run.IsCompleted, "abandoned before the grace period was over");
        time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await run.WaitAsync(TimeSpan.FromMinutes(2)); // a hang guard, not a timing assertion

        Assert.True(outcome.Cancelled);
        Assert.Equal(0, outcome.Written);
        Assert.Empty(store.Records);
        Assert.Equal(3, test.Started.Count); // no trial started after the stop
    }

    [Fact]
    public async Task After_a_stop_a_trial_that_answers_within_the_grace_period_is_written()
    {
        var tasks = Suite();
        var time = new FakeTimeProvider();
        var store = new InMemoryResultStore();
        var gate = new TaskCompletionSource();
        var started = new StartedCounter();
        var provider = new GatedProvider(gate.Task, started);
        var runner = new Runner(new ModelCatalog([provider]), time) { StopGrace = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();

        var run = runner.RunAsync(Plan(tasks, 2, "gated/expert"), tasks, store, new Leaderboard(), stopScheduling: stop.Token);
        await started.WaitForAsync(2);
        await stop.CancelAsync();
        time.Advance(TimeSpan.FromSeconds(2));
        gate.SetResult(); // the calls on the wire answer within the grace period
        var outcome = await run.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(outcome.Cancelled);
        Assert.Equal(2, outcome.Written);
        Assert.All(store.Records, r => Assert.Null(r.Error));
    }

    /// <summary>The expert, whose first decision waits for a gate (a call on the wire).</summary>
    private sealed class GatedProvider(Task gate, StartedCounter started) : IModelProvider
    {
        public string Prefix => "gated";

        public AgentFactory Resolve(string name, string modelId) => context => new Gated(BuiltinAgents.All["expert"].Create(context), gate, started);

        private sealed class Gated(IAgent inner, Task gate, StartedCounter started) : IAgent
        {
            private bool _waited;

            public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
            {
                if (!_waited)
                {
                    _waited = true;
                    started.Add();
                    await gate.WaitAsync(cancellationToken);
                }
                return await inner.DecideAsync(view, cancellationToken);
            }
        }
    }
}
