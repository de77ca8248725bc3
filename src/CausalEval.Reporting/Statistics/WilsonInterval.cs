namespace CausalEval.Reporting.Statistics;

/// <summary>The Wilson score interval for a binomial proportion (e.g. an optimal-action rate).</summary>
/// <remarks>
/// Chosen over the Wald interval because it stays inside [0, 1] and keeps near-nominal coverage
/// when the rate is close to 0 or 1 or the trials are few, which is common for small runs.
/// </remarks>
internal static class WilsonInterval
{
    /// <param name="successes">Trials that succeeded, 0 ≤ successes ≤ trials.</param>
    /// <param name="trials">All trials; with none the estimate is NaN and the interval is the whole [0, 1].</param>
    /// <param name="confidence">Two-sided confidence level in (0, 1).</param>
    public static ConfidenceInterval Compute(long successes, long trials, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trials);
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, trials);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Confidence must lie strictly between 0 and 1.");
        }

        if (trials == 0) return new ConfidenceInterval(double.NaN, 0, 1);

        double z = NormalDistribution.Quantile(1 - (1 - confidence) / 2);
        double zSquared = z * z;
        double n = trials;
        double x = successes;

        // Written over counts rather than the proportion; same interval, fewer divisions.
        double center = (x + zSquared / 2) / (n + zSquared);
        double halfWidth = z * Math.Sqrt(x * (n - x) / n + zSquared / 4) / (n + zSquared);

        // At 0 or n successes one bound is exactly 0 or 1; rounding would otherwise leave it off by an ulp.
        double lower = successes == 0 ? 0 : Math.Max(0, center - halfWidth);
        double upper = successes == trials ? 1 : Math.Min(1, center + halfWidth);
        return new ConfidenceInterval(x / n, lower, upper);
    }
}
