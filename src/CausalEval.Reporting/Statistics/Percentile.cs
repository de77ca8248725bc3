namespace CausalEval.Reporting.Statistics;

/// <summary>
/// Sample percentiles by linear interpolation between order statistics: Hyndman &amp; Fan (1996)
/// definition 7, the default of R's quantile, NumPy's percentile and Excel's PERCENTILE.INC.
/// </summary>
/// <remarks>
/// With the n values sorted as x₀ ≤ … ≤ x₍ₙ₋₁₎ and h = (n − 1)·fraction, the percentile is
/// x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎). So p0 is the minimum, p100 the maximum, and p50 the usual median.
/// </remarks>
internal static class Percentile
{
    /// <param name="values">Any order; not modified.</param>
    /// <param name="fraction">0.5 for p50, 0.95 for p95.</param>
    /// <returns>NaN when there are no values.</returns>
    public static double Of(ReadOnlySpan<double> values, double fraction)
    {
        var sorted = values.ToArray();
        if (Array.Exists(sorted, double.IsNaN))
        {
            throw new ArgumentException("Percentiles of NaN are undefined; filter missing values first.", nameof(values));
        }

        Array.Sort(sorted);
        return OfSorted(sorted, fraction);
    }

    /// <summary>The same for values already sorted ascending, so several percentiles share one sort.</summary>
    public static double OfSorted(ReadOnlySpan<double> sortedValues, double fraction)
    {
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "A percentile fraction must lie in [0, 1].");
        }

        if (sortedValues.IsEmpty) return double.NaN;

        double position = (sortedValues.Length - 1) * fraction;
        int below = (int)Math.Floor(position);
        if (below >= sortedValues.Length - 1) return sortedValues[^1];

        double weightAbove = position - below;
        return sortedValues[below] + weightAbove * (sortedValues[below + 1] - sortedValues[below]);
    }
}
