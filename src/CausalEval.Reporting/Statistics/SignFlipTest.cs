namespace CausalEval.Reporting.Statistics;

/// <summary>
/// The paired sign-flip (randomisation) test of "mean difference = 0" on per-cluster differences, e.g. per-episode
/// differences of two models' optimal-action rates when each episode was played several times. Under the null each
/// difference is as likely to have either sign, so the p-value is the share of the 2^m sign patterns of the m non-zero
/// differences whose |sum| reaches the observed |sum|.
/// </summary>
/// <remarks>
/// Exact (enumerated) up to <see cref="MaxExact"/> non-zero differences; above, the normal approximation of the same
/// randomisation distribution (mean 0, variance Σ d²), which is accurate there. With one trial per episode the
/// differences are −1, 0, +1 and the exact test is McNemar's exact test — the one used then.
/// </remarks>
internal static class SignFlipTest
{
    public const int MaxExact = 16;

    public static double TwoSidedPValue(ReadOnlySpan<double> differences)
    {
        var nonZero = new List<double>(differences.Length);
        foreach (var d in differences)
        {
            if (double.IsNaN(d))
            {
                throw new ArgumentException("Missing (NaN) differences must be filtered out first.", nameof(differences));
            }
            if (d != 0)
            {
                nonZero.Add(d);
            }
        }
        if (nonZero.Count == 0)
        {
            return 1;
        }
        var observed = Math.Abs(nonZero.Sum());
        // Sums that equal the observed one up to rounding count as reaching it.
        var tolerance = 1e-9 * nonZero.Sum(Math.Abs);
        if (nonZero.Count <= MaxExact)
        {
            var patterns = 1 << nonZero.Count;
            var reaching = 0;
            for (var mask = 0; mask < patterns; mask++)
            {
                var sum = 0.0;
                for (var i = 0; i < nonZero.Count; i++)
                {
                    sum += (mask & 1 << i) != 0 ? -nonZero[i] : nonZero[i];
                }
                reaching += Math.Abs(sum) >= observed - tolerance ? 1 : 0;
            }
            return (double)reaching / patterns;
        }
        var sd = Math.Sqrt(nonZero.Sum(d => d * d));
        return Math.Min(1, 2 * NormalDistribution.UpperTail(observed / sd));
    }
}
