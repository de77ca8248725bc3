using CausalEval.Core.Running;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Statistics;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Analysis;

/// <summary>How an entry's tie with the entry ranked just above it was decided.</summary>
internal enum TieRule
{
    /// <summary>First in its table, or separated from the entry above.</summary>
    None,

    /// <summary>The 95% interval of the mean paired difference on the episodes both played contains 0.</summary>
    Paired,

    /// <summary>No episodes in common (fewer than two): the two entries' own 95% intervals overlap.</summary>
    Overlap,
}

/// <summary>One leaderboard line: an entry on one task, or overall (<see cref="Task"/> null).</summary>
internal sealed record LeaderboardRow
{
    public required EntryKey Entry { get; init; }
    public required int EntryIndex { get; init; }
    public string? Task { get; init; }
    public int Rank { get; init; }

    /// <summary>Statistically tied with the entry ranked just above (see <see cref="TieRule"/>).</summary>
    public TieRule TiedWithAbove { get; init; }

    public long Trials { get; init; }
    public long Errors { get; init; }
    public long Scored { get; init; }
    public int Episodes { get; init; }

    /// <summary>
    /// At least one episode was scored more than once (epochs or runs): the intervals resample whole episodes (the
    /// optimal-action rate too, instead of the Wilson interval over trials, which would treat repeats as independent).
    /// </summary>
    public bool Clustered { get; init; }

    public ConfidenceInterval Normalized { get; init; } = ConfidenceInterval.Undefined;
    public ConfidenceInterval OptimalRate { get; init; } = ConfidenceInterval.Undefined;
    public double? Regret { get; init; }

    /// <summary>The ideal observer's decomposition of the regret (DESIGN §1.6), with 95% cluster-bootstrap intervals.</summary>
    public ConfidenceInterval ExplorationRegret { get; init; } = ConfidenceInterval.Undefined;
    public ConfidenceInterval InferenceRegret { get; init; } = ConfidenceInterval.Undefined;
    public double? EvidenceValue { get; init; }
    public double? ExploreEfficiency { get; init; }
    public double? Coverage { get; init; }
    public double? StructureF1 { get; init; }
    public double? Shd { get; init; }
    public double? ParseFailureRate { get; init; }
    public double? InvalidActionRate { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public double Cost { get; init; }
    public double? LatencyP50Ms { get; init; }
    public double? LatencyP95Ms { get; init; }
}

/// <summary>
/// Ranks entries by mean normalized score (then optimal-action rate, then name) and marks each entry that is
/// statistically tied with its neighbour above. The tie rule: when the two share at least two scored episodes, they
/// are tied if the 95% paired-bootstrap interval of their mean per-episode difference contains 0
/// (<see cref="StatisticalTie.ByPairedDifference"/>); otherwise if their own 95% intervals overlap
/// (<see cref="StatisticalTie.ByIntervalOverlap"/>, conservative).
/// </summary>
internal static class LeaderboardAnalysis
{
    public const int MinCommonEpisodesForPairing = 2;

    public static List<LeaderboardRow> Build(ReportData data, int? task)
    {
        // Rows (and then ties) are independent, and every interval is seeded per resample: computing them on all
        // cores gives the same numbers.
        var computed = new LeaderboardRow?[data.Entries.Count];
        Parallel.For(0, computed.Length, entry => computed[entry] = Row(data, entry, task));
        var rows = computed.OfType<LeaderboardRow>().ToList();
        rows.Sort((x, y) =>
        {
            var byScore = Descending(x.Normalized.Estimate, y.Normalized.Estimate);
            if (byScore != 0)
            {
                return byScore;
            }
            var byOptimal = Descending(x.OptimalRate.Estimate, y.OptimalRate.Estimate);
            return byOptimal != 0 ? byOptimal : x.Entry.CompareTo(y.Entry);
        });
        var ranked = new LeaderboardRow[rows.Count];
        Parallel.For(0, rows.Count, i => ranked[i] = rows[i] with { Rank = i + 1, TiedWithAbove = i == 0 ? TieRule.None : Tie(data, rows[i - 1], rows[i], task) });
        return [.. ranked];
    }

    private static TieRule Tie(ReportData data, LeaderboardRow above, LeaderboardRow row, int? task)
    {
        var (first, second) = Pairing.EpisodeMeans(data, above.EntryIndex, row.EntryIndex, task);
        if (first.Length >= MinCommonEpisodesForPairing)
        {
            return StatisticalTie.ByPairedDifference(Pairing.Difference(first, second)) ? TieRule.Paired : TieRule.None;
        }
        return StatisticalTie.ByIntervalOverlap(above.Normalized, row.Normalized) ? TieRule.Overlap : TieRule.None;
    }

    /// <summary>A mean score's interval, resampling episodes whole; undefined when no trial has the score.</summary>
    private static ConfidenceInterval MeanInterval(List<(EpisodeRef Episode, EpisodeCell Cell)> cells, Func<EpisodeCell, ScoreTally.Mean> mean)
    {
        var withScore = cells.Where(c => mean(c.Cell).Count > 0).ToArray();
        return withScore.Length == 0
            ? ConfidenceInterval.Undefined
            : Bootstrap.FromClusterTotals([.. withScore.Select(c => mean(c.Cell).Sum)], [.. withScore.Select(c => (int)mean(c.Cell).Count)]);
    }

    /// <summary>NaN sorts last.</summary>
    private static int Descending(double x, double y) => (double.IsNaN(x), double.IsNaN(y)) switch
    {
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => -1,
        _ => y.CompareTo(x),
    };

    private static LeaderboardRow? Row(ReportData data, int entry, int? task)
    {
        var byTask = data.ByEntry[entry];
        var sums = new ScoreTally();
        int episodes = 0;
        var clustered = false;
        var latencies = new List<double>();
        foreach (var (t, entryTask) in byTask)
        {
            if (task is { } only && t != only)
            {
                continue;
            }
            latencies.AddRange(entryTask.LatenciesMs);
            foreach (var cell in entryTask.Cells.Values)
            {
                sums.Add(cell.Sums);
                if (cell.Scored > 0)
                {
                    episodes++;
                    clustered |= cell.Scored > 1;
                }
            }
        }
        if (sums.Trials == 0)
        {
            return null;
        }
        var cells = data.ScoredCells(entry, task);
        var normalized = Bootstrap.FromClusterTotals(
            [.. cells.Select(c => c.Cell.NormalizedSum)], [.. cells.Select(c => c.Cell.Scored)]);
        latencies.Sort();
        return new LeaderboardRow
        {
            Entry = data.Entries[entry],
            EntryIndex = entry,
            Task = task is { } index ? data.TaskIds[index] : null,
            Trials = sums.Trials,
            Errors = sums.Errors,
            Scored = sums.Scored,
            Episodes = episodes,
            Clustered = clustered,
            Normalized = normalized,
            OptimalRate = sums.Scored == 0 ? ConfidenceInterval.Undefined
                : clustered ? Bootstrap.FromClusterTotals([.. cells.Select(c => (double)c.Cell.OptimalSum)], [.. cells.Select(c => c.Cell.Scored)])
                : WilsonInterval.Compute(sums.OptimalSum, sums.Scored),
            Regret = sums.Regret,
            ExplorationRegret = MeanInterval(cells, c => c.Sums.ExplorationRegret),
            InferenceRegret = MeanInterval(cells, c => c.Sums.InferenceRegret),
            EvidenceValue = sums.EvidenceValue.Value,
            ExploreEfficiency = sums.ExploreEfficiency.Value,
            Coverage = sums.Coverage.Value,
            StructureF1 = sums.StructureF1.Value,
            Shd = sums.Shd.Value,
            ParseFailureRate = sums.Decisions > 0 ? (double)sums.ParseFailures / sums.Decisions : null,
            InvalidActionRate = sums.Decisions > 0 ? (double)sums.InvalidActions / sums.Decisions : null,
            InputTokens = sums.InputTokens,
            OutputTokens = sums.OutputTokens,
            Cost = sums.Cost,
            LatencyP50Ms = latencies.Count > 0 ? Percentile.OfSorted(latencies.ToArray(), 0.5) : null,
            LatencyP95Ms = latencies.Count > 0 ? Percentile.OfSorted(latencies.ToArray(), 0.95) : null,
        };
    }
}
