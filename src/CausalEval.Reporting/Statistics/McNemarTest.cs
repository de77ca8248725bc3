namespace CausalEval.Reporting.Statistics;

/// <summary>McNemar's test for paired binary outcomes (e.g. two models' optimal_action on the same episodes).</summary>
internal static class McNemarTest
{
    /// <summary>
    /// The exact two-sided p-value: under the null each discordant pair is equally likely to go
    /// either way, so min(b, c) ~ Binomial(b + c, 1/2) and p = min(1, 2·P(X ≤ min(b, c))).
    /// </summary>
    /// <param name="onlyFirstSucceeded">b: pairs where only the first system succeeded.</param>
    /// <param name="onlySecondSucceeded">c: pairs where only the second system succeeded.</param>
    /// <remarks>
    /// Exact rather than chi-square because per-task discordant counts are often small.
    /// Concordant pairs carry no information about the difference and are not needed.
    /// A p-value below the smallest double (about 5e-324) is returned as 0.
    /// </remarks>
    public static double ExactTwoSidedPValue(long onlyFirstSucceeded, long onlySecondSucceeded)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onlyFirstSucceeded);
        ArgumentOutOfRangeException.ThrowIfNegative(onlySecondSucceeded);

        long discordant = onlyFirstSucceeded + onlySecondSucceeded;
        long smaller = Math.Min(onlyFirstSucceeded, onlySecondSucceeded);
        return Math.Min(1, 2 * BinomialDistribution.FairCoinCumulative(smaller, discordant));
    }
}
