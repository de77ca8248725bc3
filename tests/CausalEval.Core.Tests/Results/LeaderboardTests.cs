using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using static CausalEval.Core.Tests.Support.Steps;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Results;

public class LeaderboardTests
{
    private static readonly Episode Fork = Episode(HandWorlds.ConfoundedFork(), "B");

    private static TrialRecord Record(string model, string task, Scores? scores, int steps, string? variant = null)
    {
        var spec = new TrialSpec(0, $"{model}-{task}", task, 1, "test", Fork, model, variant, 1, 1, 2);
        var transcript = scores is null ? null : Transcript([.. Enumerable.Range(0, steps).Select(i => Explore(i, "A", 5))]);
        return new TrialRecord(spec, transcript, scores, default, 0, TimeSpan.Zero, FixedTimeProvider.Now, FixedTimeProvider.Now,
            scores is null ? new TrialError("HttpRequestException", "down") : null);
    }

    private static Leaderboard HandWorked()
    {
        var board = new Leaderboard();
        board.Add(Record("m1", "t1", new Scores { ExploitValue = 10, OptimalValue = 10, Normalized = 1, OptimalAction = 1, Regret = 0, ExploreCoverage = 1 }, 4));
        // An invalid exploit: no value, one invalid answer and one unreadable one.
        board.Add(Record("m1", "t1", new Scores { OptimalValue = 10, OptimalAction = 0, ExploreCoverage = 0.5, InvalidActions = 1, ParseFailures = 1 }, 4));
        board.Add(Record("m1", "t1", null, 0)); // the trial ended in an error
        board.Add(Record("m1", "t2", new Scores { ExploitValue = -5, OptimalValue = 10, Normalized = -0.5, OptimalAction = 0, Regret = 15 }, 2));
        board.Add(Record("m2", "t1", new Scores { ExploitValue = 5, OptimalValue = 10, Normalized = 0.5, OptimalAction = 0, Regret = 5, ExploreCoverage = 1 }, 4));
        return board;
    }

    [Fact]
    public void ByTask_AveragesScoredTrials_CountingAnInvalidExploitAsZero()
    {
        var rows = HandWorked().ByTask();

        Assert.Equal([("t1", "m1"), ("t1", "m2"), ("t2", "m1")], rows.Select(r => (r.Task!, r.Model)));
        var t1m1 = rows[0];
        Assert.Equal(3, t1m1.Trials);
        Assert.Equal(1, t1m1.Errors);
        Assert.Equal(0.5, t1m1.Normalized);          // (1 + 0) / 2: the invalid exploit counts 0, the error is left out
        Assert.Equal(0.5, t1m1.OptimalActionRate);
        Assert.Equal(5.0, t1m1.Regret);              // (0 + 10) / 2: the invalid exploit's regret is the optimal value
        Assert.Equal(0.75, t1m1.Coverage);
        Assert.Equal(0.25, t1m1.InvalidRate);        // 2 bad answers out of 8 decisions
        var t2m1 = rows[2];
        Assert.Equal(-0.5, t2m1.Normalized);
        Assert.Null(t2m1.Coverage);                  // not applicable, not 0
        Assert.Equal(0.0, t2m1.InvalidRate);
    }

    [Fact]
    public void Overall_AggregatesAcrossTasksAndRanksByNormalized()
    {
        var rows = HandWorked().Overall();

        Assert.Equal(["m2", "m1"], rows.Select(r => r.Model));
        var m1 = rows[1];
        Assert.Null(m1.Task);
        Assert.Equal(4, m1.Trials);
        Assert.Equal(1, m1.Errors);
        Assert.Equal(1.0 / 6, m1.Normalized!.Value, 12); // (1 + 0 − 0.5) / 3
        Assert.Equal(1.0 / 3, m1.OptimalActionRate!.Value, 12);
        Assert.Equal(25.0 / 3, m1.Regret!.Value, 12);
        Assert.Equal(0.75, m1.Coverage);
        Assert.Equal(0.2, m1.InvalidRate!.Value, 12);     // 2 of 10 decisions
    }

    [Fact]
    public void PromptVariants_AreSeparateRows()
    {
        var board = new Leaderboard();
        board.Add(Record("m", "t", new Scores { Normalized = 1, OptimalValue = 1, Regret = 0, OptimalAction = 1 }, 1, "plain"));
        board.Add(Record("m", "t", new Scores { Normalized = -1, OptimalValue = 1, Regret = 2 }, 1, "reasoning"));

        var rows = board.Overall();

        Assert.Equal([("plain", 1.0), ("reasoning", -1.0)], rows.Select(r => (r.PromptVariant!, r.Normalized!.Value)));
    }

    [Fact]
    public void AModelWhoseTrialsAllFailed_HasNoScoresButCountsItsErrors()
    {
        var board = new Leaderboard();
        board.Add(Record("broken", "t", null, 0));

        var row = Assert.Single(board.Overall());

        Assert.Equal(1, row.Errors);
        Assert.Null(row.Normalized);
        Assert.Null(row.InvalidRate);
    }

    [Fact]
    public void ToMarkdown_ShowsEveryRow()
    {
        var markdown = HandWorked().ToMarkdown("run-1");

        Assert.Contains("run-1", markdown, StringComparison.Ordinal);
        Assert.Contains("| 1 | m2 | — | 1 | 0.500 | 0.000 | 5.000 | 1.000 | 0.0% | 0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 | m1 | — | 4 | 0.167 | 0.333 | 8.333 | 0.750 | 20.0% | 1 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| t2 | m1 | — | 1 | -0.500 | 0.000 | 15.000 | — | 0.0% | 0 |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Add_IsSafeFromManyThreads()
    {
        var board = new Leaderboard();
        var scores = new Scores { Normalized = 1, OptimalValue = 1, Regret = 0, OptimalAction = 1 };

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                board.Add(Record("m", "t", scores, 1));
            }
        })));

        Assert.Equal(8_000, Assert.Single(board.Overall()).Trials);
    }

    private static TrialSummary Summary(string episode, double? normalized, string task = "t") =>
        new("id", task, "m", null, 1, normalized is null ? null : new Scores { Normalized = normalized, OptimalValue = 10, OptimalAction = normalized == 1 ? 1 : 0 },
            1, default, 0, normalized is null) { Episode = episode };

    [Fact]
    public void NormalizedInterval_IsClusteredByEpisode_AsWorkedByHand()
    {
        var board = new Leaderboard();
        // Episode e1 played twice (1 and 0), e2 and e3 once; an error is not scored and so not in the interval.
        foreach (var (episode, value) in new[] { ("e1", 1.0), ("e1", 0.0), ("e2", 0.5), ("e3", 1.0) })
        {
            board.Add(Summary(episode, value));
        }
        board.Add(Summary("e4", null));

        var row = Assert.Single(board.Overall());

        // mean 2.5/4 = 0.625; episode residuals S_e − n_e·m: −0.25, −0.125, 0.375; Σ² = 0.21875;
        // se = sqrt(3/2 · 0.21875) / 4 = 0.1432055; ± 1.96 · se = 0.2806827.
        Assert.Equal(0.625, row.Normalized);
        var (low, high) = row.NormalizedInterval!.Value;
        Assert.Equal(0.3443173, low, 6);
        Assert.Equal(0.9056827, high, 6);
        Assert.Equal(row.NormalizedInterval, Assert.Single(board.ByTask()).NormalizedInterval);
    }

    [Fact]
    public void NormalizedInterval_WithOneTrialPerEpisode_IsTheStandardErrorOfTheMean()
    {
        var values = new[] { 1.0, 0.0, 0.5, 1.0, 0.25, -0.5 };
        var board = new Leaderboard();
        for (var i = 0; i < values.Length; i++)
        {
            board.Add(Summary($"e{i}", values[i], task: i % 2 == 0 ? "t1" : "t2"));
        }

        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        var (low, high) = Assert.Single(board.Overall()).NormalizedInterval!.Value;
        Assert.Equal(mean - 1.96 * sd / Math.Sqrt(values.Length), low, 10);
        Assert.Equal(mean + 1.96 * sd / Math.Sqrt(values.Length), high, 10);
    }

    [Fact]
    public void NormalizedInterval_IsNull_WithASingleEpisode()
    {
        var board = new Leaderboard();
        board.Add(Summary("e1", 1));
        board.Add(Summary("e1", 0));

        Assert.Null(Assert.Single(board.Overall()).NormalizedInterval);
    }

    [Fact]
    public void ToSummary_IsOneAlignedRowPerModel_WithTheInterval()
    {
        var summary = HandWorked().ToSummary();
        var lines = summary.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("rank", lines[0], StringComparison.Ordinal);
        // m2 has one episode (no interval); m1's three scored trials share the Fork episode but two tasks: two clusters.
        Assert.Matches(@"^1\s+m2\s+—\s+1\s+0\.500\s+0\.0%\s+0\.0%\s+0$", lines[1]);
        Assert.Matches(@"^2\s+m1\s+—\s+4\s+0\.167 \[-?\d\.\d{3}, \d\.\d{3}\]\s+33\.3%\s+20\.0%\s+1$", lines[2]);
        var trialsEnd = lines[0].IndexOf("trials", StringComparison.Ordinal) + "trials".Length;
        Assert.EndsWith(" 1", lines[1][..trialsEnd], StringComparison.Ordinal);   // numbers right-aligned under their header
        Assert.EndsWith(" 4", lines[2][..trialsEnd], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("| t", StringComparison.Ordinal));
    }
}
