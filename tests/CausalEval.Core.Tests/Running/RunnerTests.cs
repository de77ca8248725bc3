using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

public class RunnerTests
{
    private static IReadOnlyList<TaskEpisodes> SmallSuite()
    {
        var catalog = Repo.Catalog;
        return
        [
            new TaskEpisodes(catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(6)]),
            new TaskEpisodes(catalog.Load("explore-exploit-heldout-subset"), [.. Repo.TestSplit("explore-exploit-heldout-subset").Take(4)]),
        ];
    }

    private static RunPlan Plan(IReadOnlyList<TaskEpisodes> tasks, IReadOnlyList<string> models, int epochs = 2, ulong seed = 7, int concurrency = 1)
        => new() { Tasks = [.. tasks.Select(t => t.Task)], Models = models, Epochs = epochs, Seed = seed, Concurrency = concurrency };

    private static Runner MakeRunner(TestModelProvider? test = null)
        => new(new ModelCatalog([new BuiltinModelProvider(), test ?? new TestModelProvider()]), new FixedTimeProvider());

    private static string Json(TrialRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, record);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The record as JSON without the fields that may legitimately differ between runs.</summary>
    private static string Comparable(TrialRecord record)
    {
        var node = JsonNode.Parse(Json(record))!.AsObject();
        node.Remove("started_at");
        node.Remove("finished_at");
        node.Remove("latency_ms");
        return node.ToJsonString();
    }

    [Fact]
    public void PlanTrials_IsDeterministicWithUniqueIdsInPlanOrder()
    {
        var tasks = SmallSuite();
        var plan = Plan(tasks, ["builtin/expert", "builtin/random"]);

        var trials = Runner.PlanTrials(plan, tasks).ToList();
        var again = Runner.PlanTrials(plan, tasks).ToList();

        Assert.Equal(10 * 2 * 2, trials.Count);
        Assert.Equal(Runner.CountTrials(plan, tasks), trials.Count);
        Assert.Equal(Enumerable.Range(0, trials.Count).Select(i => (long)i), trials.Select(t => t.Index));
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
        Assert.Equal(trials.Select(t => (t.TrialId, t.EnvironmentSeed, t.AgentSeed)), again.Select(t => (t.TrialId, t.EnvironmentSeed, t.AgentSeed)));
        Assert.All(trials, t => Assert.Matches("^[0-9a-f]{16}$", t.TrialId));
        // Plan order: task, episode, epoch, model.
        Assert.Equal(("explore-exploit", "test-0000", 1, "builtin/expert"), (trials[0].TaskId, trials[0].Episode.Id, trials[0].Epoch, trials[0].Model));
        Assert.Equal(("explore-exploit", "test-0000", 1, "builtin/random"), (trials[1].TaskId, trials[1].Episode.Id, trials[1].Epoch, trials[1].Model));
        Assert.Equal(("explore-exploit", "test-0000", 2, "builtin/expert"), (trials[2].TaskId, trials[2].Episode.Id, trials[2].Epoch, trials[2].Model));
        Assert.Equal("explore-exploit-heldout-subset", trials[^1].TaskId);
        Assert.All(trials, t => Assert.True(t.EnvironmentSeed < 1UL << 53, "seeds must survive a JSON round trip"));
    }

    [Fact]
    public void PlanTrials_EnvironmentSeedIsSharedAcrossModelsButNotAcrossEpochsOrEpisodes()
    {
        var tasks = SmallSuite();
        var trials = Runner.PlanTrials(Plan(tasks, ["builtin/expert", "builtin/random", "builtin/optimal"], epochs: 3), tasks).ToList();

        foreach (var group in trials.GroupBy(t => (t.TaskId, t.Episode.Id, t.Epoch)))
        {
            Assert.Single(group.Select(t => t.EnvironmentSeed).Distinct());
            Assert.Equal(3, group.Select(t => t.AgentSeed).Distinct().Count());
        }
        foreach (var group in trials.GroupBy(t => (t.TaskId, t.Episode.Id, t.Model)))
        {
            Assert.Equal(3, group.Select(t => t.EnvironmentSeed).Distinct().Count());
        }
        Assert.Equal(trials.Count / 3, trials.Select(t => t.EnvironmentSeed).Distinct().Count());
    }

    [Fact]
    public void PlanTrials_IdsDependOnTheSeedButNotOnConcurrency()
    {
        var tasks = SmallSuite();
        var ids = Runner.PlanTrials(Plan(tasks, ["builtin/expert"], seed: 1), tasks).Select(t => t.TrialId).ToList();
        var parallelIds = Runner.PlanTrials(Plan(tasks, ["builtin/expert"], seed: 1, concurrency: 8), tasks).Select(t => t.TrialId).ToList();
        var otherSeed = Runner.PlanTrials(Plan(tasks, ["builtin/expert"], seed: 2), tasks).Select(t => t.TrialId).ToList();

        Assert.Equal(ids, parallelIds);
        Assert.Empty(ids.Intersect(otherSeed));
    }

    [Fact]
    public void PlanTrials_ThePromptVariantIsPartOfTheTrialIdentity()
    {
        var tasks = SmallSuite();
        var plan = Plan(tasks, ["builtin/expert"]) with { PromptVariants = [null, "explanations"] };

        var trials = Runner.PlanTrials(plan, tasks).ToList();

        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
        Assert.Equal(2, trials.Select(t => t.PromptVariant).Distinct().Count());
    }

    [Fact]
    public async Task RunAsync_DeliversRecordsInPlanOrder_AndTheSameRecordsWhateverTheConcurrency()
    {
        var tasks = SmallSuite();
        var models = new[] { "builtin/random", "test/slow", "builtin/expert" };

        var sequential = new InMemoryResultStore();
        var outcome1 = await MakeRunner().RunAsync(Plan(tasks, models, concurrency: 1), tasks, sequential, new Leaderboard());
        var parallel = new InMemoryResultStore();
        var outcome4 = await MakeRunner().RunAsync(Plan(tasks, models, concurrency: 4), tasks, parallel, new Leaderboard());

        Assert.Equal(new RunOutcome(60, 60, 0, false), outcome1);
        Assert.Equal(new RunOutcome(60, 60, 0, false), outcome4);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), parallel.Records.Select(r => r.Spec.Index));
        Assert.Equal(sequential.Records.Select(Comparable), parallel.Records.Select(Comparable));
        Assert.All(parallel.Records, r =>
        {
            Assert.Null(r.Error);
            Assert.NotNull(r.Scores);
        });
    }

    [Fact]
    public async Task RunAsync_TheSameSeedGivesIdenticalTrialLines()
    {
        var tasks = SmallSuite();
        var models = new[] { "builtin/random", "builtin/correlational" };

        var a = new InMemoryResultStore();
        var b = new InMemoryResultStore();
        await MakeRunner().RunAsync(Plan(tasks, models, concurrency: 2), tasks, a, new Leaderboard());
        await MakeRunner().RunAsync(Plan(tasks, models, concurrency: 3), tasks, b, new Leaderboard());

        Assert.Equal(a.Records.Select(Json), b.Records.Select(Json)); // the clock is fixed, so even timestamps agree
    }

    [Fact]
    public async Task RunAsync_AnAgentThatThrowsEndsOnlyItsOwnTrials()
    {
        var tasks = SmallSuite();
        var test = new TestModelProvider();
        test.FailOn.Add("test-0001");
        var store = new InMemoryResultStore();
        var leaderboard = new Leaderboard();

        var outcome = await MakeRunner(test).RunAsync(Plan(tasks, ["test/flaky", "builtin/expert"], concurrency: 4), tasks, store, leaderboard);

        var records = store.Records;
        Assert.Equal(40, records.Count);
        var failed = records.Where(r => r.Error is not null).ToList();
        // test-0001 exists in both tasks, two epochs each, only for the flaky model.
        Assert.Equal(4, failed.Count);
        Assert.All(failed, r =>
        {
            Assert.Equal("test/flaky", r.Spec.Model);
            Assert.Equal("test-0001", r.Spec.Episode.Id);
            Assert.Null(r.Scores);
            Assert.Equal(nameof(InvalidOperationException), r.Error!.Kind);
            Assert.Contains("model backend failed", r.Error.Message, StringComparison.Ordinal);
        });
        Assert.All(records.Except(failed), r =>
        {
            Assert.Null(r.Error);
            Assert.NotNull(r.Scores);
        });
        Assert.Equal(new RunOutcome(40, 40, 4, false), outcome);
        var flakyRow = Assert.Single(leaderboard.Overall(), r => r.Model == "test/flaky");
        Assert.Equal(20, flakyRow.Trials);
        Assert.Equal(4, flakyRow.Errors);

        // The error is written to the trial line, with null scores.
        var line = JsonNode.Parse(Json(failed[0]))!;
        Assert.Null(line["scores"]);
        Assert.Equal(nameof(InvalidOperationException), (string?)line["error"]!["kind"]);
    }

    [Fact]
    public async Task RunAsync_AnUnknownModelFailsBeforeAnyTrial()
    {
        var tasks = SmallSuite();
        var store = new InMemoryResultStore();

        var ex = await Assert.ThrowsAsync<InputException>(
            () => MakeRunner().RunAsync(Plan(tasks, ["builtin/expert", "builtin/oracle"]), tasks, store, new Leaderboard()));

        Assert.Equal("--model", ex.Origin);
        Assert.Empty(store.Records);
    }

    [Fact]
    public async Task RunAsync_AlreadyCancelledRunsNothingAndSaysSo()
    {
        var tasks = SmallSuite();
        var store = new InMemoryResultStore();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var outcome = await MakeRunner().RunAsync(Plan(tasks, ["builtin/expert"], concurrency: 2), tasks, store, new Leaderboard(), null, cts.Token);

        Assert.True(outcome.Cancelled);
        Assert.Equal(0, outcome.Written);
        Assert.Empty(store.Records);
    }

    [Fact]
    public async Task RunAsync_StoppingSchedulingLetsTrialsInFlightFinishAndBeWritten()
    {
        var tasks = SmallSuite();
        var store = new StoppingStore(stopAfter: 3);

        var outcome = await MakeRunner().RunAsync(Plan(tasks, ["test/slow"], concurrency: 4), tasks, store, new Leaderboard(),
            null, store.Stop.Token);

        Assert.True(outcome.Cancelled);
        // Nothing already started is thrown away: every started trial is written, whole and scored.
        Assert.InRange(outcome.Written, 3, 3 + 4 * 4);
        Assert.Equal(outcome.Written, store.Records.Count);
        Assert.All(store.Records, r => Assert.NotNull(r.Scores));
        Assert.Equal(Enumerable.Range(0, store.Records.Count).Select(i => (long)i), store.Records.Select(r => r.Spec.Index));
    }

    /// <summary>Requests a stop once it has received a given number of trials.</summary>
    private sealed class StoppingStore(int stopAfter) : IResultStore
    {
        public CancellationTokenSource Stop { get; } = new();

        public List<TrialRecord> Records { get; } = [];

        public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
        {
            Records.Add(record);
            if (Records.Count == stopAfter)
            {
                Stop.Cancel();
            }
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task RunAsync_ReportsProgress()
    {
        var tasks = SmallSuite();
        var reports = new List<long>();

        await MakeRunner().RunAsync(Plan(tasks, ["builtin/expert"], epochs: 1), tasks, new InMemoryResultStore(), new Leaderboard(),
            new SynchronousProgress(reports.Add));

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), reports);
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    [Fact]
    public async Task JsonlResultStore_WritesOneCompleteLinePerTrialWithTheDocumentedFields()
    {
        var tasks = SmallSuite();
        var directory = Path.Combine(Path.GetTempPath(), $"causaleval-run-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            await using (var store = new JsonlResultStore(directory))
            {
                await MakeRunner().RunAsync(Plan(tasks, ["builtin/expert"], epochs: 1), tasks, store, new Leaderboard());
                Assert.Equal(10, store.Written);
            }
            var lines = await File.ReadAllLinesAsync(Path.Combine(directory, JsonlResultStore.FileName));
            Assert.Equal(10, lines.Length);
            foreach (var text in lines)
            {
                var line = JsonNode.Parse(text)!.AsObject();
                foreach (var field in new[] { "trial_id", "task", "model", "prompt_variant", "epoch", "scores", "usage", "steps" })
                {
                    Assert.True(line.ContainsKey(field), $"missing {field}");
                }
                Assert.Null(line["prompt_variant"]);
                var scores = line["scores"]!.AsObject();
                foreach (var name in new[] { "exploit_value", "optimal_value", "normalized", "optimal_action", "regret", "explore_coverage",
                             "subset_adherence", "structure_f1", "shd", "invalid_actions", "parse_failures" })
                {
                    Assert.True(scores.ContainsKey(name), $"scores lacks {name}");
                }
                Assert.True(line["usage"]!.AsObject().ContainsKey("input_tokens"));
                Assert.True(line["usage"]!.AsObject().ContainsKey("output_tokens"));
                Assert.NotEmpty(line["steps"]!.AsArray());
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
