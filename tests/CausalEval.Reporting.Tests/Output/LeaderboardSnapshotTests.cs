using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

/// <summary>The report's files for a fixed set of trials (<see cref="Fixtures.Snapshot"/>), through the whole pipeline.</summary>
public sealed class LeaderboardSnapshotTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Leaderboard_markdown_and_csv_match_their_snapshots()
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), Fixtures.Snapshot(), runId: "snapshot-run", seed: 7);

        var result = ReportGenerator.Generate(new ReportOptions([run], _temp.Sub("report")));

        Snapshot.Match("leaderboard.md", File.ReadAllText(Path.Combine(result.OutputDirectory, "leaderboard.md")));
        Snapshot.Match("leaderboard.csv", File.ReadAllText(Path.Combine(result.OutputDirectory, "leaderboard.csv")));
        Snapshot.Match("comparisons.csv", File.ReadAllText(Path.Combine(result.OutputDirectory, "comparisons.csv")));
    }

    [Fact]
    public void The_same_trials_in_another_order_give_the_same_files()
    {
        var trials = Fixtures.Snapshot();
        var forward = SyntheticRun.Write(_temp.Sub("forward"), trials, runId: "snapshot-run", seed: 7);
        var reversed = SyntheticRun.Write(_temp.Sub("reversed"), [.. Enumerable.Reverse(trials)], runId: "snapshot-run", seed: 7);

        var a = ReportGenerator.Generate(new ReportOptions([forward], _temp.Sub("a")));
        var b = ReportGenerator.Generate(new ReportOptions([reversed], _temp.Sub("b")));

        foreach (var file in new[] { "leaderboard.md", "leaderboard.csv", "comparisons.csv" })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(a.OutputDirectory, file)), File.ReadAllText(Path.Combine(b.OutputDirectory, file)));
        }
    }
}
