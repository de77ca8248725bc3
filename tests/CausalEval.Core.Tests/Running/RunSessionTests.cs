using System.Text.Json;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Running;

public sealed class RunSessionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"run-session-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static IReadOnlyList<TaskEpisodes> Suite() =>
    [
        new TaskEpisodes(Repo.Catalog.Load("explore-exploit"), [.. Repo.TestSplit("explore-exploit").Take(5)]),
        new TaskEpisodes(Repo.Catalog.Load("passive-exploit-observational"), [.. Repo.TestSplit("passive-exploit-observational").Take(3)]),
    ];

    private static RunPlan Plan(IReadOnlyList<TaskEpisodes> tasks, params string[] models) =>
        new() { Tasks = [.. tasks.Select(t => t.Task)], Models = models, Epochs = 2, Seed = 3, Concurrency = 2 };

    private static ModelCatalog Models(TestModelProvider? test = null) => new([new BuiltinModelProvider(), test ?? new TestModelProvider()]);

    private string Folder(string name) => Path.Combine(_root, name);

    private static RunSession Start(RunPlan plan, IReadOnlyList<TaskEpisodes> tasks, string folder) =>
        RunSession.Start(plan, tasks, Repo.Catalog, new RunIdentity { CommandLine = ["test"] }, folder, new FixedTimeProvider());

    [Fact]
    public async Task A_new_run_writes_run_json_every_trial_and_the_leaderboard_and_ends_finished()
    {
        var tasks = Suite();
        var session = Start(Plan(tasks, "builtin/expert", "builtin/random"), tasks, Folder("a"));
        Assert.Equal(RunStatus.Running, RunManifest.Load(session.Directory).Status);

        var result = await session.RunAsync(Models(), new FixedTimeProvider());

        Assert.Equal(RunStatus.Finished, result.Status);
        var manifest = RunManifest.Load(result.Directory);
        Assert.Equal(RunStatus.Finished, manifest.Status);
        Assert.Equal(8 * 2 * 2, manifest.TrialsPlanned);
        Assert.Equal(manifest.TrialsPlanned, manifest.TrialsWritten);
        var trials = TrialLog.Read(session.TrialsPath).ToList();
        Assert.Equal(manifest.TrialsPlanned, trials.Count);
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
        Assert.Equal(result.LeaderboardMarkdown, await File.ReadAllTextAsync(Path.Combine(result.Directory, "leaderboard.md")));
        // The leaderboard counts what the file holds: tally the file independently and compare.
        var reread = new Leaderboard();
        trials.ForEach(reread.Add);
        Assert.Equal(reread.ByTask(), result.Leaderboard.ByTask());
    }

    [Fact]
    public async Task A_resumed_run_with_a_torn_last_line_ends_byte_for_byte_as_an_uninterrupted_one()
    {
        var tasks = Suite();
        var plan = Plan(tasks, "builtin/expert", "test/slow");
        var whole = await Start(plan, tasks, Folder("whole")).RunAsync(Models(), new FixedTimeProvider());
        var bytes = await File.ReadAllBytesAsync(Path.Combine(whole.Directory, JsonlResultStore.FileName));

        // The same run, cut after 7 whole lines and half of the 8th, as a crash would leave it.
        var cut = Start(plan, tasks, Folder("cut"));
        cut.Dispose(); // as if its process had died
        var lines = bytes.Select((b, i) => (b, i)).Where(p => p.b == (byte)'\n').Select(p => p.i).ToList();
        await File.WriteAllBytesAsync(cut.TrialsPath, bytes[..(lines[6] + 1 + (lines[7] - lines[6]) / 2)]);
        var notices = new List<string>();
        var manifest = RunManifest.Load(cut.Directory);
        var (resumedPlan, resumedTasks) = RunSession.ResumedPlan(cut.Directory, manifest, Repo.Catalog, _ => false, null);
        var resumed = RunSession.Resume(cut.Directory, manifest, resumedPlan, resumedTasks, notices.Add);

        Assert.Equal(7, resumed.Finished.Count);
        Assert.Equal(manifest.TrialsPlanned - 7, resumed.Remaining);
        Assert.Contains(notices, n => n.StartsWith("removed an incomplete last line", StringComparison.Ordinal));
        var result = await resumed.RunAsync(Models(), new FixedTimeProvider());

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(manifest.TrialsPlanned - 7, result.Outcome.Written);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(cut.TrialsPath));
        Assert.Equal(whole.Leaderboard.Overall(), result.Leaderboard.Overall());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Shards_of_a_plan_are_disjoint_and_together_are_exactly_the_unsharded_run(int count)
    {
        var tasks = Suite();
        var plan = Plan(tasks, "builtin/expert", "builtin/random");
        var whole = await Start(plan, tasks, Folder("whole")).RunAsync(Models(), new FixedTimeProvider());
        var wholeTrials = TrialLog.Read(Path.Combine(whole.Directory, JsonlResultStore.FileName)).ToDictionary(t => t.TrialId);

        var union = new Dictionary<string, TrialSummary>();
        for (var k = 1; k <= count; k++)
        {
            var shard = new RunShard(k, count);
            var result = await Start(plan with { Shard = shard }, tasks, Folder($"shard{k}")).RunAsync(Models(), new FixedTimeProvider());
            var manifest = RunManifest.Load(result.Directory);
            Assert.Equal(shard, manifest.Shard);
            Assert.Equal(RunStatus.Finished, manifest.Status);
            var trials = TrialLog.Read(Path.Combine(result.Directory, JsonlResultStore.FileName)).ToList();
            Assert.Equal(manifest.TrialsPlanned, trials.Count);
            // Each shard plays a real share of this 32-trial plan, not all or nothing.
            Assert.InRange(trials.Count, 1, wholeTrials.Count - 1);
            foreach (var trial in trials)
            {
                Assert.True(union.TryAdd(trial.TrialId, trial), $"trial {trial.TrialId} is in two shards");
            }
        }

        Assert.Equal(wholeTrials.Keys.Order(), union.Keys.Order());
        foreach (var (id, trial) in union)
        {
            Assert.Equal(wholeTrials[id].Scores, trial.Scores);
            Assert.Equal(wholeTrials[id].Model, trial.Model);
            Assert.Equal(wholeTrials[id].Episode, trial.Episode);
        }
    }

    [Fact]
    public async Task A_resumed_shard_keeps_its_shard_and_plays_only_its_own_trials()
    {
        var tasks = Suite();
        var plan = Plan(tasks, "builtin/expert") with { Shard = new RunShard(2, 3) };
        var session = Start(plan, tasks, Folder("s"));
        session.Dispose();
        var manifest = RunManifest.Load(session.Directory);

        var (resumedPlan, resumedTasks) = RunSession.ResumedPlan(session.Directory, manifest, Repo.Catalog, _ => false, null);
        var result = await RunSession.Resume(session.Directory, manifest, resumedPlan, resumedTasks).RunAsync(Models(), new FixedTimeProvider());

        Assert.Equal(new RunShard(2, 3), resumedPlan.Shard);
        var ids = TrialLog.Read(session.TrialsPath).Select(t => t.TrialId).ToList();
        Assert.Equal(manifest.TrialsPlanned, ids.Count);
        Assert.All(ids, id => Assert.True(new RunShard(2, 3).Contains(id)));
        Assert.Equal(RunStatus.Finished, result.Status);
    }

    [Theory]
    [InlineData("0/3")]
    [InlineData("4/3")]
    [InlineData("1/0")]
    [InlineData("2")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    [InlineData("-1/2")]
    public void A_shard_that_is_not_K_of_N_is_bad_input(string text)
    {
        var error = Assert.Throws<InputException>(() => RunShard.Parse(text, "--shard", text));
        Assert.Equal("--shard", error.Origin);
    }

    [Fact]
    public async Task A_run_whose_trials_end_in_errors_ends_failed_with_them_counted()
    {
        var tasks = Suite();
        var test = new TestModelProvider();
        test.FailOn.Add(tasks[0].Episodes[1].Id);

        var result = await Start(Plan(tasks, "test/flaky"), tasks, Folder("f")).RunAsync(Models(test), new FixedTimeProvider());

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(2, result.Manifest.TrialErrors); // one episode, two epochs
        Assert.Equal(result.Manifest.TrialsPlanned, result.Manifest.TrialsWritten);
    }

    [Fact]
    public async Task A_cancelled_run_ends_interrupted_and_says_so_in_run_json()
    {
        var tasks = Suite();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        var result = await Start(Plan(tasks, "builtin/expert"), tasks, Folder("i")).RunAsync(Models(), new FixedTimeProvider(), cancellationToken: cancel.Token);

        Assert.Equal(RunStatus.Interrupted, result.Status);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(result.Directory, RunManifest.FileName)));
        Assert.Equal("interrupted", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public void Starting_in_a_folder_that_is_not_empty_is_bad_input_and_leaves_it_as_it_was()
    {
        var tasks = Suite();
        var folder = Folder("busy");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");

        var error = Assert.Throws<InputException>(() => Start(Plan(tasks, "builtin/expert"), tasks, folder));

        Assert.Equal("--out", error.Origin);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(true, true, 1, RunStatus.Interrupted)]
    [InlineData(false, true, 1, RunStatus.StoppedByBudget)]
    [InlineData(false, false, 1, RunStatus.Failed)]
    [InlineData(false, false, 0, RunStatus.Finished)]
    public void StatusOf_puts_interruption_before_the_budget_before_errors(bool cancelled, bool byBudget, long errors, RunStatus expected)
    {
        Assert.Equal(expected, RunSession.StatusOf(new RunOutcome(10, 5, errors, cancelled, byBudget), errors));
    }

    [Fact]
    public void Every_status_round_trips_through_its_run_json_name()
    {
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            Assert.Equal(status, RunStatusNames.Parse(status.Name()));
        }
        Assert.Equal("stopped-by-budget", RunStatus.StoppedByBudget.Name());
        Assert.Null(RunStatusNames.Parse("done"));
    }
}
