using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

/// <summary>Resume never trusts what it reads back: every line is checked against the plan, one line per trial, counts from the lines.</summary>
public sealed class ResumeIntegrityTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"resume-integrity-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static IReadOnlyList<TaskEpisodes> Suite() =>
        [new TaskEpisodes(Repo.Catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(5)])];

    private static RunPlan Plan(IReadOnlyList<TaskEpisodes> tasks, ulong seed = 3, params string[] models) =>
        new() { Tasks = [.. tasks.Select(t => t.Task)], Models = models.Length > 0 ? models : ["builtin/expert", "builtin/random"], Epochs = 2, Seed = seed, Concurrency = 2 };

    private static ModelCatalog Models(TestModelProvider? test = null) => new([new BuiltinModelProvider(), test ?? new TestModelProvider()]);

    private async Task<string> FinishedRun(string name, RunPlan plan, TestModelProvider? test = null)
    {
        var tasks = Suite();
        var result = await RunSession.Start(plan, tasks, Repo.Catalog, new RunIdentity { CommandLine = ["test"] }, Path.Combine(_root, name), new FixedTimeProvider())
            .RunAsync(Models(test), new FixedTimeProvider());
        return result.Directory;
    }

    private static RunSession Reopen(string directory, Action<string>? notice = null, bool retryErrors = false)
    {
        var manifest = RunManifest.Load(directory);
        var (plan, tasks) = RunSession.ResumedPlan(directory, manifest, Repo.Catalog, _ => false, null);
        return RunSession.Resume(directory, manifest, plan, tasks, notice, retryErrors);
    }

    private static string Trials(string directory) => Path.Combine(directory, JsonlResultStore.FileName);

    private static void EditManifest(string directory, Action<JsonNode> edit)
    {
        var path = Path.Combine(directory, RunManifest.FileName);
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    [Fact]
    public async Task A_line_from_another_run_is_bad_input_naming_file_and_line()
    {
        var mine = await FinishedRun("mine", Plan(Suite(), seed: 3));
        var other = await FinishedRun("other", Plan(Suite(), seed: 4));
        var lines = File.ReadAllLines(Trials(mine));
        File.WriteAllLines(Trials(mine), [.. lines[..6], File.ReadAllLines(Trials(other))[0]]);

        var error = Assert.Throws<InputException>(() => Reopen(mine));

        Assert.Equal($"{Trials(mine)}:7", error.Origin);
        Assert.Equal("trial_id", error.Field);
        Assert.Contains("not a trial of this run's plan", error.Problem);
    }

    [Theory]
    [InlineData("model", "builtin/optimal")]
    [InlineData("episode", "somewhere-else")]
    [InlineData("epoch", 7)]
    public async Task A_line_whose_fields_disagree_with_its_trial_id_is_bad_input_naming_the_field(string field, object value)
    {
        var run = await FinishedRun("run", Plan(Suite()));
        var lines = File.ReadAllLines(Trials(run));
        var edited = JsonNode.Parse(lines[3])!;
        edited[field] = value is int n ? JsonValue.Create(n) : JsonValue.Create((string)value);
        lines[3] = edited.ToJsonString();
        File.WriteAllLines(Trials(run), lines[..5]);

        var error = Assert.Throws<InputException>(() => Reopen(run));

        Assert.Equal($"{Trials(run)}:4", error.Origin);
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task Duplicate_lines_are_removed_and_the_counts_come_from_the_lines_not_from_run_json()
    {
        var run = await FinishedRun("run", Plan(Suite()));
        var lines = File.ReadAllLines(Trials(run));
        Assert.Equal(20, lines.Length);
        // 8 distinct trials written, 3 of them twice; run.json claims far more than that.
        File.WriteAllLines(Trials(run), [.. lines[..8], lines[1], lines[4], lines[4]]);
        EditManifest(run, m =>
        {
            m["status"] = "running";
            m["trials_written"] = 41;
            m["trial_errors"] = 5;
            m["cost_usd"] = 12.5;
        });
        var notices = new List<string>();

        var session = Reopen(run, notices.Add);

        Assert.Equal(8, session.Finished.Count);
        Assert.Equal(12, session.Remaining);
        Assert.Equal(8, session.Manifest.TrialsWritten);
        Assert.Equal(0, session.Manifest.TrialErrors);
        Assert.Equal(0, session.Manifest.CostUsd);
        Assert.Contains(notices, n => n.StartsWith("removed 3 duplicate lines", StringComparison.Ordinal));
        Assert.Equal(lines[..8], File.ReadAllLines(Trials(run)));
        var result = await session.RunAsync(Models(), new FixedTimeProvider());
        var ids = TrialLog.Read(Trials(run)).Select(t => t.TrialId).ToList();
        Assert.Equal(20, ids.Count);
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, result.Manifest.TrialsWritten);
        Assert.Equal(RunStatus.Finished, result.Status);
    }

    [Fact]
    public async Task A_tampered_trials_planned_is_bad_input()
    {
        var run = await FinishedRun("run", Plan(Suite()));
        EditManifest(run, m => m["trials_planned"] = 41);

        var error = Assert.Throws<InputException>(() => Reopen(run));

        Assert.Equal("trials_planned", error.Field);
        Assert.EndsWith(RunManifest.FileName, error.Origin);
    }

    [Fact]
    public async Task Fewer_episodes_in_run_json_than_its_lines_played_is_caught_by_the_lines()
    {
        var run = await FinishedRun("run", Plan(Suite()));
        // Both edited consistently: 4 episodes × 2 models × 2 epochs; the lines of episode 5 no longer belong to the plan.
        EditManifest(run, m =>
        {
            m["tasks"]![0]!["episodes"] = 4;
            m["trials_planned"] = 16;
        });

        var error = Assert.Throws<InputException>(() => Reopen(run));

        Assert.StartsWith($"{Trials(run)}:", error.Origin);
        Assert.Equal("trial_id", error.Field);
    }

    [Fact]
    public async Task More_episodes_in_run_json_than_the_split_has_is_bad_input()
    {
        var run = await FinishedRun("run", Plan(Suite()));
        EditManifest(run, m => m["tasks"]![0]!["episodes"] = 100_000);

        var error = Assert.Throws<InputException>(() => Reopen(run));

        Assert.Equal("tasks[0].episodes", error.Field);
    }

    [Fact]
    public async Task Retry_errors_plays_again_exactly_the_trials_that_ended_in_a_retryable_error()
    {
        var tasks = Suite();
        var test = new TestModelProvider();
        test.FailOn.Add(tasks[0].Episodes[1].Id); // rate limited for test/limited, an agent bug for test/flaky
        var plan = Plan(tasks, 3, "test/limited", "test/flaky");
        var run = await FinishedRun("run", plan, test);
        var before = TrialLog.Read(Trials(run)).ToList();
        Assert.Equal(2, before.Count(t => t.ErrorKind == "rate_limited"));
        Assert.Equal(2, before.Count(t => t.ErrorKind == nameof(InvalidOperationException)));

        // Without --retry-errors nothing is played again.
        var unchanged = await Reopen(run).RunAsync(Models(test), new FixedTimeProvider());
        Assert.Equal(0, unchanged.Outcome.Written);
        Assert.Equal(RunStatus.Failed, unchanged.Status);

        test.FailOn.Clear(); // the rate limit is over, and the agent bug is fixed too (but it is not retryable)
        var notices = new List<string>();
        var session = Reopen(run, notices.Add, retryErrors: true);
        Assert.Contains("--retry-errors: 2 trials", string.Join('\n', notices));
        var result = await session.RunAsync(Models(test), new FixedTimeProvider());

        Assert.Equal(2, result.Outcome.Written);
        var after = TrialLog.Read(Trials(run)).ToList();
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(after.Count, after.Select(t => t.TrialId).Distinct().Count());
        Assert.DoesNotContain(after, t => t.ErrorKind == "rate_limited");
        Assert.Equal(2, after.Count(t => t.ErrorKind == nameof(InvalidOperationException)));
        Assert.Equal(2, result.Manifest.TrialErrors);
        Assert.Equal(before.Count, result.Manifest.TrialsWritten);
    }

    [Fact]
    public async Task Run_json_counters_follow_the_trials_while_the_run_is_going()
    {
        var tasks = Suite();
        var folder = Path.Combine(_root, "live");
        // Each timestamp read is 3 s after the last: every written trial is past the checkpoint interval.
        var time = new SteppingTimeProvider(TimeSpan.FromSeconds(3));
        var session = RunSession.Start(Plan(tasks) with { Concurrency = 1 }, tasks, Repo.Catalog, new RunIdentity(), folder, time);
        var seen = new List<(long Reported, long OnDisk, RunStatus Status)>();
        var counters = new Inline<RunCounters>(c =>
        {
            var manifest = RunManifest.Load(folder); // never half written: saved through a temporary file
            seen.Add((c.Done, manifest.TrialsWritten, manifest.Status));
        });

        await session.RunAsync(Models(), time, counters: counters);

        Assert.Equal(20, seen.Count);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), seen.Select(s => s.Reported));
        Assert.All(seen, s => Assert.Equal(RunStatus.Running, s.Status));
        // The file lags at most one trial behind what was reported (it is saved just after the report).
        Assert.All(seen, s => Assert.Equal(s.Reported - 1, s.OnDisk));
    }

    [Fact]
    public async Task Run_json_counters_are_not_rewritten_more_often_than_the_checkpoint_interval()
    {
        var tasks = Suite();
        var folder = Path.Combine(_root, "still");
        var session = RunSession.Start(Plan(tasks), tasks, Repo.Catalog, new RunIdentity(), folder, new FixedTimeProvider());
        var onDisk = new List<long>();

        await session.RunAsync(Models(), new FixedTimeProvider(), counters: new Inline<RunCounters>(_ => onDisk.Add(RunManifest.Load(folder).TrialsWritten)));

        // The clock never moves: no checkpoint is due, run.json is written only at the start and the end.
        Assert.All(onDisk, n => Assert.Equal(0, n));
        Assert.Equal(20, RunManifest.Load(folder).TrialsWritten);
    }

    [Fact]
    public async Task A_second_process_on_the_same_folder_is_bad_input_naming_the_process_that_holds_it()
    {
        var tasks = Suite();
        var folder = Path.Combine(_root, "busy");
        var first = RunSession.Start(Plan(tasks), tasks, Repo.Catalog, new RunIdentity(), folder, new FixedTimeProvider());

        var error = Assert.Throws<InputException>(() => Reopen(folder));

        Assert.Equal("--resume", error.Origin);
        Assert.Contains($"in use by process {Environment.ProcessId}", error.Problem);
        await first.RunAsync(Models(), new FixedTimeProvider()); // ends, and lets go of the folder
        using var second = Reopen(folder);
        Assert.Equal(0, second.Remaining);
    }

    [Fact]
    public async Task A_write_that_fails_ends_the_run_failed_with_the_reason_and_a_resume_finishes_it()
    {
        var tasks = Suite();
        var folder = Path.Combine(_root, "full");
        var session = RunSession.Start(Plan(tasks), tasks, Repo.Catalog, new RunIdentity(), folder, new FixedTimeProvider());
        await using var disk = new FullDiskStore(folder, room: 7);

        var result = await session.RunAsync(Models(), new FixedTimeProvider(), store: disk);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("No space left on device", result.Manifest.FailureReason);
        var manifest = RunManifest.Load(folder);
        Assert.Equal(RunStatus.Failed, manifest.Status);
        Assert.Equal(7, manifest.TrialsWritten);
        Assert.Contains("No space left on device", manifest.FailureReason);
        await disk.DisposeAsync();

        var resumed = await Reopen(folder).RunAsync(Models(), new FixedTimeProvider());

        Assert.Equal(RunStatus.Finished, resumed.Status);
        Assert.Null(resumed.Manifest.FailureReason);
        var ids = TrialLog.Read(Trials(folder)).Select(t => t.TrialId).ToList();
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, ids.Count);
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>The folder's real trials.jsonl, until <paramref name="room"/> lines are written: then every write fails as on a full disk.</summary>
    private sealed class FullDiskStore(string folder, int room) : IResultStore, IAsyncDisposable
    {
        private readonly JsonlResultStore _inner = new(folder);
        private int _written;

        public async ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
        {
            if (_written == room)
            {
                throw new IOException("No space left on device : '" + _inner.Path + "'");
            }
            await _inner.AppendAsync(record, cancellationToken);
            _written++;
        }

        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
