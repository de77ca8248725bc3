namespace CausalEval.Reporting.Statistics;

/// <summary>
/// Whether two leaderboard entries are "statistically tied": their data do not show, at the
/// intervals' confidence level, which one is better.
/// </summary>
/// <remarks>
/// Prefer <see cref="ByPairedDifference"/> whenever the entries were scored on the same episodes:
/// it cancels the variation between episodes that both share and so separates close entries that
/// overlapping intervals would call tied. <see cref="ByIntervalOverlap"/> is the fallback for entries
/// without shared episodes; it is conservative (two 95% intervals can overlap a little although the
/// difference is significant), so it errs towards "tied" rather than towards a false ranking.
/// Either rule treats an undefined interval (nothing to compare) as a tie: nothing shows a difference.
/// </remarks>
internal static class StatisticalTie
{
    /// <summary>Tied when the interval for the mean paired difference (first − second) contains 0.</summary>
    public static bool ByPairedDifference(ConfidenceInterval difference) =>
        !difference.IsDefined || difference.Contains(0);

    /// <summary>Tied when the two entries' own intervals share at least one point.</summary>
    public static bool ByIntervalOverlap(ConfidenceInterval first, ConfidenceInterval second) =>
        !first.IsDefined || !second.IsDefined || (first.Lower <= second.Upper && second.Lower <= first.Upper);
}
