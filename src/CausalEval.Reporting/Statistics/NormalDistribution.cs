namespace CausalEval.Reporting.Statistics;

/// <summary>The standard normal distribution N(0, 1).</summary>
internal static class NormalDistribution
{
    /// <summary>
    /// P(Z ≥ z), computed from the complementary error function (a Chebyshev fit with relative error below 1.2e-7
    /// everywhere, so small tail probabilities keep their magnitude).
    /// </summary>
    public static double UpperTail(double z)
    {
        var x = z / Math.Sqrt(2);
        var t = 1 / (1 + 0.5 * Math.Abs(x));
        var erfc = t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return (x >= 0 ? erfc : 2 - erfc) / 2;
    }

    /// <summary>
    /// The inverse of the standard normal CDF: the z with P(Z ≤ z) = <paramref name="probability"/>.
    /// Wichura's AS241 (PPND16), accurate to about 1e-16 relative, so no refinement step is needed.
    /// </summary>
    /// <returns>−∞ for 0 and +∞ for 1.</returns>
    public static double Quantile(double probability)
    {
        if (double.IsNaN(probability) || probability < 0 || probability > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A probability must lie in [0, 1].");
        }

        if (probability == 0) return double.NegativeInfinity;
        if (probability == 1) return double.PositiveInfinity;

        double q = probability - 0.5;
        if (Math.Abs(q) <= 0.425)
        {
            return q * CentralRegion(0.180625 - q * q);
        }

        // The tails are evaluated in terms of the smaller tail probability, so 1 − p does not lose digits.
        double tail = q < 0 ? probability : 1 - probability;
        double r = Math.Sqrt(-Math.Log(tail));
        double z = r <= 5 ? IntermediateTail(r - 1.6) : FarTail(r - 5);
        return q < 0 ? -z : z;
    }

    private static double CentralRegion(double r) =>
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r
              + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r
              + 133.14166789178437745) * r + 3.387132872796366608)
        / (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r
              + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
              + 42.313330701600911252) * r + 1.0);

    private static double IntermediateTail(double r) =>
        (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
              + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r
              + 4.6303378461565452959) * r + 1.42343711074968357734)
        / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r
              + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r
              + 2.05319162663775882187) * r + 1.0);

    private static double FarTail(double r) =>
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r
              + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r
              + 5.4637849111641143699) * r + 6.6579046435011037772)
        / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r
              + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
              + 0.59983220655588793769) * r + 1.0);
}
