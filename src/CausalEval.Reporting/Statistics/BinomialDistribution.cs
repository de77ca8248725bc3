namespace CausalEval.Reporting.Statistics;

/// <summary>Binomial probabilities that stay accurate for counts in the hundreds of thousands.</summary>
internal static class BinomialDistribution
{
    private const double LogSqrtTwoPi = 0.918938533204672741780329736406;

    /// <summary>P(X ≤ k) for X ~ Binomial(n, 1/2).</summary>
    public static double FairCoinCumulative(long k, long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k < 0) return 0;
        if (k >= n) return 1;

        // Below the mode the terms only shrink as i falls, so summing down from k converges fast
        // and never adds a large term to a small sum. Above it, use the mirror image.
        if (2 * k > n) return 1 - FairCoinCumulative(n - k - 1, n);

        // With k = 0 the only term is 2^-n, which ScaleB gives exactly (exp of a log would not).
        if (k == 0) return Math.ScaleB(1.0, (int)-Math.Min(n, 2000));

        double largestTerm = Math.Exp(LogProbability(k, n, 0.5));
        double sumRelativeToLargest = 1;
        double term = 1;
        for (long i = k; i > 0; i--)
        {
            // P(X = i − 1) / P(X = i) = i / (n − i + 1) when p = 1/2.
            term *= (double)i / (n - i + 1);
            sumRelativeToLargest += term;
            if (term < sumRelativeToLargest * 1e-17) break;
        }

        return largestTerm * sumRelativeToLargest;
    }

    /// <summary>log P(X = k) for X ~ Binomial(n, p), 0 &lt; p &lt; 1.</summary>
    /// <remarks>
    /// Loader's saddle-point form (the one R's dbinom uses): differences of log-factorials of
    /// numbers near 10^5 would cancel away ten digits; the Stirling remainders and deviance terms
    /// used here are small numbers and keep close to full precision.
    /// </remarks>
    public static double LogProbability(long k, long n, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k < 0 || k > n) return double.NegativeInfinity;
        double q = 1 - p;
        if (k == 0) return n * Math.Log(q);
        if (k == n) return n * Math.Log(p);

        double logCoefficientRemainder = StirlingRemainder(n) - StirlingRemainder(k) - StirlingRemainder(n - k)
            - Deviance(k, n * p) - Deviance(n - k, n * q);
        double logNormalizer = 2 * LogSqrtTwoPi + Math.Log(k) + Math.Log(1 - (double)k / n);
        return logCoefficientRemainder - 0.5 * logNormalizer;
    }

    /// <summary>log(n!) − [(n + ½)·log n − n + log √(2π)], the error of Stirling's formula.</summary>
    private static double StirlingRemainder(long n)
    {
        if (n < 16)
        {
            // Small factorials are exact in a double, so the direct difference is accurate here.
            double factorial = 1;
            for (long i = 2; i <= n; i++) factorial *= i;
            return Math.Log(factorial) - (n + 0.5) * Math.Log(n) + n - LogSqrtTwoPi;
        }

        // The asymptotic series; from n = 16 its next term is below 1e-16.
        double nn = (double)n * n;
        const double S0 = 1.0 / 12, S1 = 1.0 / 360, S2 = 1.0 / 1260, S3 = 1.0 / 1680, S4 = 1.0 / 1188;
        return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
    }

    /// <summary>x·log(x / mean) + mean − x, computed without cancellation when x is near the mean.</summary>
    private static double Deviance(double x, double mean)
    {
        if (Math.Abs(x - mean) < 0.1 * (x + mean))
        {
            double v = (x - mean) / (x + mean);
            double sum = (x - mean) * v;
            double term = 2 * x * v;
            double vSquared = v * v;
            for (int j = 1; j < 1000; j++)
            {
                term *= vSquared;
                double next = sum + term / (2 * j + 1);
                if (next == sum) return next;
                sum = next;
            }

            return sum;
        }

        return x * Math.Log(x / mean) + mean - x;
    }
}
