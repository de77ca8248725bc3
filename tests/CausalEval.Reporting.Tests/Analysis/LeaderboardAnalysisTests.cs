using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Statistics;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Analysis;

public class LeaderboardAnalysisTests
{
    private static List<TrialSpec> Scores(string model, params double[] normalized)
        => [.. normalized.Select((n, e) => new TrialSpec { Task = "t", Episode = $"e{e:00}", Model = model, Normalized = n, OptimalAction = n == 1 ? 1 : 0 })];

    [Fact]
    public void A_row_holds_the_hand_computed_means_rates_and_intervals()
    {
        List<TrialSpec> trials =
        [
            new() { Task = "t", Episode = "e1", Model = "m", Normalized = 1, OptimalAction = 1, OptimalValue = 10, Coverage = 1, Steps = 4, LatencyMs = 10 },
            new() { Task = "t", Episode = "e2", Model = "m", Normalized = 1, OptimalAction = 1, OptimalValue = 10, Coverage = 0.5, Steps = 4, LatencyMs = 20 },
            new() { Task = "t", Episode = "e3", Model = "m", Normalized = 0, OptimalAction = 0, OptimalValue = 5, Coverage = 1, Steps = 4, InvalidActions = 1, LatencyMs = 30 },
            new() { Task = "t", Episode = "e4", Model = "m", Normalized = 0.5, OptimalAction = 0, OptimalValue = 8, Coverage = 0.5, Steps = 4, ParseFailures = 2, LatencyMs = 40 },
            new() { Task = "t", Episode = "e5", Model = "m", Normalized = null, LatencyMs = 50, InputTokens = 7, Cost = 0.5 },
        ];

        var row = Assert.Single(LeaderboardAnalysis.Build(Loaded.Data(trials), task: null));

        Assert.Equal((5L, 1L, 4L, 4), (row.Trials, row.Errors, row.Scored, row.Episodes));
        Assert.Equal(0.625, row.Normalized.Estimate, 12);
        Assert.Equal(WilsonInterval.Compute(2, 4), row.OptimalRate);
        Assert.Equal((0 + 0 + 5 + 4) / 4.0, row.Regret!.Value, 12);
        Assert.Equal(0.75, row.Coverage);
        Assert.Equal(2 / 16.0, row.ParseFailureRate);
        Assert.Equal(1 / 16.0, row.InvalidActionRate);
        Assert.Equal((7L, 0.5), (row.InputTokens, row.Cost));
        Assert.Equal(30, row.LatencyP50Ms);
        Assert.Equal(48, row.LatencyP95Ms!.Value, 9); // type 7: 40 + 0.8 × (50 − 40)
        Assert.False(row.Clustered);
        Assert.Null(row.StructureF1);
    }

    [Fact]
    public void The_regret_decomposition_has_hand_computed_means_and_episode_intervals()
    {
        // Optimal value 10. Episode e1: evidence 10, exploit 10 (no loss); e2: evidence 4, exploit 4 (lost by exploring);
        // e3: evidence 10, exploit 0 (lost by reasoning); e4 played twice: evidence 8, exploits 8 and 2.
        List<TrialSpec> trials =
        [
            new() { Task = "t", Episode = "e1", Model = "m", Normalized = 1, EvidenceValue = 10 },
            new() { Task = "t", Episode = "e2", Model = "m", Normalized = 0.4, OptimalAction = 0, EvidenceValue = 4 },
            new() { Task = "t", Episode = "e3", Model = "m", Normalized = 0, OptimalAction = 0, EvidenceValue = 10 },
            new() { Task = "t", Episode = "e4", Model = "m", Normalized = 0.8, OptimalAction = 0, EvidenceValue = 8 },
            new() { Task = "t", Episode = "e4", Model = "m", Epoch = 2, Normalized = 0.2, OptimalAction = 0, EvidenceValue = 8 },
        ];

        var row = Assert.Single(LeaderboardAnalysis.Build(Loaded.Data(trials), task: null));

        Assert.Equal((0 + 6 + 0 + 2 + 2) / 5.0, row.ExplorationRegret.Estimate, 12);
        Assert.Equal((0 + 0 + 10 + 0 + 6) / 5.0, row.InferenceRegret.Estimate, 12);
        Assert.Equal(row.Regret!.Value, row.ExplorationRegret.Estimate + row.InferenceRegret.Estimate, 12);
        // Resampled by episode, e4's two trials together.
        Assert.Equal(Bootstrap.FromClusterTotals([0, 6, 0, 4], [1, 1, 1, 2]), row.ExplorationRegret);
        Assert.Equal(Bootstrap.FromClusterTotals([0, 0, 10, 6], [1, 1, 1, 2]), row.InferenceRegret);
    }

    [Fact]
    public void The_score_interval_resamples_whole_episodes_when_they_were_played_more_than_once()
    {
        List<TrialSpec> trials = [.. Enumerable.Range(0, 12).SelectMany(e => new[] { 1, 2, 3 }.Select(epoch =>
            new TrialSpec { Task = "t", Episode = $"e{e:00}", Model = "m", Epoch = epoch, Normalized = e % 3 == 0 ? 1 : (epoch - 2) * 0.5 }))];

        var row = Assert.Single(LeaderboardAnalysis.Build(Loaded.Data(trials), task: null));

        double[] sums = [.. Enumerable.Range(0, 12).Select(e => e % 3 == 0 ? 3.0 : 0.0)];
        Assert.True(row.Clustered);
        Assert.Equal(Bootstrap.FromClusterTotals(sums, [.. sums.Select(_ => 3)]), row.Normalized);
    }

    [Fact]
    public void Entries_rank_by_score_and_an_entry_with_only_errors_comes_last()
    {
        List<TrialSpec> trials = [.. Scores("b", 0.5, 0.5), .. Scores("a", 1, 1), .. Scores("c", 0, 0),
            new TrialSpec { Task = "t", Episode = "e00", Model = "broken", Normalized = null }];

        var rows = LeaderboardAnalysis.Build(Loaded.Data(trials), task: null);

        Assert.Equal(["a", "b", "c", "broken"], rows.Select(r => r.Entry.Model));
        Assert.Equal([1, 2, 3, 4], rows.Select(r => r.Rank));
        Assert.False(rows[3].Normalized.IsDefined);
    }

    [Fact]
    public void Neighbours_whose_paired_difference_interval_contains_zero_are_tied()
    {
        // a and b differ on 2 of 40 episodes (in both directions): tied. c is far below both: not tied.
        var a = Enumerable.Repeat(1.0, 40).ToArray();
        var b = a.ToArray();
        b[3] = 0;
        a[7] = 0.5;
        var c = Enumerable.Repeat(0.0, 40).ToArray();

        var rows = LeaderboardAnalysis.Build(Loaded.Data([.. Scores("a", a), .. Scores("b", b), .. Scores("c", c)]), task: null);

        Assert.Equal(["a", "b", "c"], rows.Select(r => r.Entry.Model));
        Assert.Equal([TieRule.None, TieRule.Paired, TieRule.None], rows.Select(r => r.TiedWithAbove));
    }

    [Fact]
    public void Entries_without_common_episodes_fall_back_to_interval_overlap()
    {
        // Same score distribution on disjoint episodes: overlapping intervals, so tied by the weaker rule.
        var values = Enumerable.Range(0, 30).Select(i => i % 2 == 0 ? 1.0 : 0.0).ToArray();
        List<TrialSpec> trials = [.. Scores("a", values), .. Scores("b", values).Select(t => t with { Episode = "other-" + t.Episode })];

        var rows = LeaderboardAnalysis.Build(Loaded.Data(trials), task: null);

        Assert.Equal(TieRule.Overlap, rows[1].TiedWithAbove);
    }

    [Fact]
    public void Per_task_rows_only_count_that_task()
    {
        List<TrialSpec> trials = [.. Scores("m", 1, 1), .. Scores("m", 0, 0, 0).Select(t => t with { Task = "u" })];
        var data = Loaded.Data(trials);

        var perTask = data.TaskIds.ToDictionary(t => t, t => Assert.Single(LeaderboardAnalysis.Build(data, data.TaskIds.IndexOf(t))));

        Assert.Equal(1, perTask["t"].Normalized.Estimate);
        Assert.Equal(0, perTask["u"].Normalized.Estimate);
        Assert.Equal(2 / 5.0, Assert.Single(LeaderboardAnalysis.Build(data, null)).Normalized.Estimate);
    }
}
