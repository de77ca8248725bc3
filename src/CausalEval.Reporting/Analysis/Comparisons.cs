using CausalEval.Reporting.Input;
using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Analysis;

/// <summary>Two entries on their common episodes; A is the one ranked higher overall.</summary>
internal sealed record ComparisonRow
{
    public required EntryKey A { get; init; }
    public required EntryKey B { get; init; }

    /// <summary>Episodes both entries have scores for.</summary>
    public int Episodes { get; init; }

    /// <summary>Mean of per-episode mean normalized scores over the common episodes.</summary>
    public double MeanA { get; init; } = double.NaN;
    public double MeanB { get; init; } = double.NaN;

    /// <summary>Mean paired difference A − B with its 95% paired-bootstrap interval (episodes resampled).</summary>
    public ConfidenceInterval Difference { get; init; } = ConfidenceInterval.Undefined;

    /// <summary>Trial pairs for McNemar's test (same episode, epoch and run order).</summary>
    public long Pairs { get; init; }
    public long OptimalA { get; init; }
    public long OptimalB { get; init; }

    /// <summary>Pairs where only A (only B) chose an optimal action: McNemar's discordant counts.</summary>
    public long OnlyA { get; init; }
    public long OnlyB { get; init; }

    /// <summary>
    /// Two-sided p on optimal_action; NaN without pairs. Exact McNemar over trial pairs when every episode was played
    /// once; with repeats (epochs > 1) the sign-flip test on per-episode differences of optimal-action rates, so the
    /// episode is the unit.
    /// </summary>
    public double PValue { get; init; } = double.NaN;

    /// <summary>Which test gave <see cref="PValue"/>: <see cref="McNemar"/> or <see cref="SignFlip"/>.</summary>
    public string Test { get; init; } = McNemar;

    public const string McNemar = "mcnemar";
    public const string SignFlip = "sign-flip-episodes";

    /// <summary>Holm–Bonferroni adjusted over every pair in the report.</summary>
    public double PAdjusted { get; init; } = double.NaN;
}

/// <summary>
/// Every pair of models: paired score difference and McNemar's test, Holm-adjusted over all pairs. Models are compared
/// under the same prompt condition (prompt variant and naming scheme); an entry without a prompt (a built-in reference
/// or a baseline) is compared with every entry. How a model fares under two prompt conditions is the ablation's
/// question, not this table's.
/// </summary>
internal static class ComparisonAnalysis
{
    /// <param name="overall">The overall leaderboard: pairs follow its ranking.</param>
    public static List<ComparisonRow> Build(ReportData data, IReadOnlyList<LeaderboardRow> overall)
    {
        var pairs = new List<(LeaderboardRow A, LeaderboardRow B)>();
        for (var i = 0; i < overall.Count; i++)
        {
            for (var j = i + 1; j < overall.Count; j++)
            {
                if (Comparable(overall[i].Entry, overall[j].Entry))
                {
                    pairs.Add((overall[i], overall[j]));
                }
            }
        }
        var rows = new ComparisonRow[pairs.Count];
        // Each pair is independent and its resamples are seeded per resample, so the order of work does not matter.
        Parallel.For(0, pairs.Count, k => rows[k] = Compare(data, pairs[k].A, pairs[k].B));
        var adjusted = HolmBonferroni.Adjust([.. rows.Select(r => r.PValue)]);
        return [.. rows.Select((r, k) => r with { PAdjusted = adjusted[k] })];
    }

    /// <summary>Same prompt condition, or one of the two takes no prompt.</summary>
    public static bool Comparable(EntryKey a, EntryKey b)
        => (a.Variant == b.Variant && a.Naming == b.Naming) || (a.Variant is null && a.Naming is null) || (b.Variant is null && b.Naming is null);

    private static ComparisonRow Compare(ReportData data, LeaderboardRow a, LeaderboardRow b)
    {
        var (first, second) = Pairing.EpisodeMeans(data, a.EntryIndex, b.EntryIndex, task: null);
        var outcomes = Pairing.Outcomes(data, a.EntryIndex, b.EntryIndex);
        var p = double.NaN;
        if (outcomes.Pairs > 0 && outcomes.Repeated)
        {
            var (optimalA, optimalB) = Pairing.EpisodeMeans(data, a.EntryIndex, b.EntryIndex, task: null, cell => cell.MeanOptimal);
            p = SignFlipTest.TwoSidedPValue(Pairing.Differences(optimalA, optimalB));
        }
        else if (outcomes.Pairs > 0)
        {
            p = McNemarTest.ExactTwoSidedPValue(outcomes.OnlyFirst, outcomes.OnlySecond);
        }
        return new ComparisonRow
        {
            A = a.Entry,
            B = b.Entry,
            Episodes = first.Length,
            MeanA = first.Length > 0 ? first.Average() : double.NaN,
            MeanB = second.Length > 0 ? second.Average() : double.NaN,
            Difference = Pairing.Difference(first, second),
            Pairs = outcomes.Pairs,
            OptimalA = outcomes.FirstOptimal,
            OptimalB = outcomes.SecondOptimal,
            OnlyA = outcomes.OnlyFirst,
            OnlyB = outcomes.OnlySecond,
            PValue = p,
            Test = outcomes.Repeated ? ComparisonRow.SignFlip : ComparisonRow.McNemar,
        };
    }
}
