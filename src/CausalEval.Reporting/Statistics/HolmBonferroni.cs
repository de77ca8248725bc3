namespace CausalEval.Reporting.Statistics;

/// <summary>Holm's step-down adjustment for a family of tests (e.g. every pair of models).</summary>
/// <remarks>
/// Controls the family-wise error rate like Bonferroni under any dependence between the tests,
/// but is uniformly more powerful, which matters when many model pairs are compared.
/// </remarks>
internal static class HolmBonferroni
{
    /// <summary>
    /// Adjusted p-values in the input order: with the m p-values sorted ascending,
    /// p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎). Reject test i at level α when p̃ᵢ ≤ α.
    /// </summary>
    /// <remarks>
    /// NaN marks a test that could not be run (e.g. no shared episodes): it stays NaN and is not
    /// counted in m, so it neither gets nor causes a penalty.
    /// </remarks>
    public static double[] Adjust(IReadOnlyList<double> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);

        var adjusted = new double[pValues.Count];
        var definedIndices = new List<int>(pValues.Count);
        for (int i = 0; i < pValues.Count; i++)
        {
            double p = pValues[i];
            if (double.IsNaN(p))
            {
                adjusted[i] = double.NaN;
                continue;
            }

            if (p < 0 || p > 1)
            {
                throw new ArgumentOutOfRangeException(nameof(pValues), p, $"p-value {i} is not in [0, 1].");
            }

            definedIndices.Add(i);
        }

        // Ties keep input order (stable), though tied p-values end up with equal adjustments anyway.
        var ascending = definedIndices.OrderBy(i => pValues[i]).ToArray();
        int m = ascending.Length;
        double runningMaximum = 0;
        for (int rank = 0; rank < m; rank++)
        {
            int index = ascending[rank];
            double scaled = Math.Min(1, (m - rank) * pValues[index]);
            runningMaximum = Math.Max(runningMaximum, scaled);
            adjusted[index] = runningMaximum;
        }

        return adjusted;
    }
}
