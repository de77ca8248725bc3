using CausalEval.Core.Randomness;

namespace CausalEval.Reporting.Statistics;

/// <summary>
/// Percentile bootstrap confidence intervals for a mean and for a paired mean difference,
/// optionally resampling whole clusters (e.g. episodes, when each was played for several epochs).
/// </summary>
/// <remarks>
/// <para>
/// Every interval is computed from per-cluster totals (sum and count), so one resample costs one
/// random draw and two additions per cluster, whatever the clusters' sizes. A resample's mean is
/// Σ sums / Σ counts over the drawn clusters (the ratio estimator; with equal sizes, the plain mean).
/// The bounds are the α/2 and 1 − α/2 percentiles (<see cref="Percentile"/>, linear interpolation)
/// of the resampled means; the estimate is the observed mean, not the resamples' average.
/// </para>
/// <para>
/// Reproducible: resample b draws from its own generator, Core's <see cref="SeededRandom"/> seeded with
/// <see cref="SplitMix64.Derive"/>(seed, b) (the run's generator: one RNG for the whole harness),
/// so the same inputs and seed give bit-identical intervals, and would however the resamples were split up.
/// Clusters are put in id order (and unclustered values in value order) before resampling, so the
/// order in which trials were recorded does not change the interval either.
/// </para>
/// </remarks>
internal static class Bootstrap
{
    public const int DefaultResamples = 2000;

    /// <summary>Fixed so that a report is the same every time it is regenerated; any value would do.</summary>
    public const ulong DefaultSeed = 0x_C0FFEE_2023;

    /// <summary>The mean of independent observations.</summary>
    public static ConfidenceInterval MeanInterval(
        ReadOnlySpan<double> values, double confidence = 0.95, int resamples = DefaultResamples, ulong seed = DefaultSeed)
    {
        RequireNoNaN(values, nameof(values));
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        return FromClusterTotals(sorted, clusterSizes: null, confidence, resamples, seed);
    }

    /// <summary>The mean of observations grouped into clusters that are resampled whole.</summary>
    /// <param name="clusterIds">One id per value; values with equal ids form a cluster.</param>
    public static ConfidenceInterval ClusteredMeanInterval(
        ReadOnlySpan<double> values, ReadOnlySpan<int> clusterIds,
        double confidence = 0.95, int resamples = DefaultResamples, ulong seed = DefaultSeed)
    {
        RequireNoNaN(values, nameof(values));
        if (clusterIds.Length != values.Length)
        {
            throw new ArgumentException($"{clusterIds.Length} cluster ids for {values.Length} values.", nameof(clusterIds));
        }

        var (sums, sizes) = TotalsByCluster(values, clusterIds);
        return FromClusterTotals(sums, sizes, confidence, resamples, seed);
    }

    /// <summary>
    /// The mean of first − second over aligned pairs (e.g. two models on the same episodes).
    /// Resampling pairs, not each sample separately, keeps the episode-to-episode variation that
    /// both share out of the interval; that is what makes paired comparisons sharp.
    /// </summary>
    /// <param name="clusterIds">Empty for independent pairs; otherwise one id per pair.</param>
    public static ConfidenceInterval PairedMeanDifferenceInterval(
        ReadOnlySpan<double> first, ReadOnlySpan<double> second, ReadOnlySpan<int> clusterIds,
        double confidence = 0.95, int resamples = DefaultResamples, ulong seed = DefaultSeed)
    {
        if (first.Length != second.Length)
        {
            throw new ArgumentException($"Paired samples must align: {first.Length} vs {second.Length} values.", nameof(second));
        }

        RequireNoNaN(first, nameof(first));
        RequireNoNaN(second, nameof(second));
        var differences = new double[first.Length];
        for (int i = 0; i < differences.Length; i++) differences[i] = first[i] - second[i];

        return clusterIds.IsEmpty
            ? MeanInterval(differences, confidence, resamples, seed)
            : ClusteredMeanInterval(differences, clusterIds, confidence, resamples, seed);
    }

    /// <summary>
    /// The mean from per-cluster sums and counts, for callers that aggregate while streaming
    /// and never hold every observation.
    /// </summary>
    /// <param name="clusterSums">One sum per cluster, resampled in the order given: pass them in a
    /// stable order (e.g. by episode id) for results that do not depend on how trials were recorded.</param>
    /// <param name="clusterSizes">Observations in each cluster (all ≥ 1); null when every cluster holds one.</param>
    public static ConfidenceInterval FromClusterTotals(
        double[] clusterSums, int[]? clusterSizes,
        double confidence = 0.95, int resamples = DefaultResamples, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(clusterSums);
        RequireNoNaN(clusterSums, nameof(clusterSums));
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Confidence must lie strictly between 0 and 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resamples);
        if (clusterSizes is not null)
        {
            if (clusterSizes.Length != clusterSums.Length)
            {
                throw new ArgumentException($"{clusterSizes.Length} sizes for {clusterSums.Length} clusters.", nameof(clusterSizes));
            }

            if (Array.Exists(clusterSizes, size => size <= 0))
            {
                throw new ArgumentOutOfRangeException(nameof(clusterSizes), "Every cluster must hold at least one observation.");
            }
        }

        int clusters = clusterSums.Length;
        if (clusters == 0) return ConfidenceInterval.Undefined;

        double observedMean = Sum(clusterSums) / (clusterSizes is null ? clusters : SumOf(clusterSizes));

        // With equal sizes (every episode run for the same epochs) each resample's count is constant,
        // so resampling cluster means instead spares a memory read per draw.
        bool sizesDiffer = clusterSizes is not null && !Array.TrueForAll(clusterSizes, size => size == clusterSizes[0]);
        double[] resampledTotals = clusterSizes is null || sizesDiffer
            ? clusterSums
            : Array.ConvertAll(clusterSums, sum => sum / clusterSizes[0]);
        int[]? resampledSizes = sizesDiffer ? clusterSizes : null;

        // Sequential on purpose: threads gave no measurable gain here (2 vCPUs), and a report can
        // compute its many intervals in parallel instead; per-resample streams keep that reproducible.
        var resampledMeans = new double[resamples];
        for (int b = 0; b < resamples; b++) resampledMeans[b] = ResampledMean(resampledTotals, resampledSizes, seed, b);

        Array.Sort(resampledMeans);
        double tail = (1 - confidence) / 2;
        return new ConfidenceInterval(
            observedMean,
            Percentile.OfSorted(resampledMeans, tail),
            Percentile.OfSorted(resampledMeans, 1 - tail));
    }

    /// <param name="clusterSizes">Null when every entry of <paramref name="clusterSums"/> counts as one.</param>
    private static double ResampledMean(double[] clusterSums, int[]? clusterSizes, ulong seed, int resample)
    {
        var random = ForResample(seed, resample);
        int clusters = clusterSums.Length;
        double sum = 0;
        if (clusterSizes is null)
        {
            for (int i = 0; i < clusters; i++) sum += clusterSums[random.NextInt(clusters)];
            return sum / clusters;
        }

        long count = 0;
        for (int i = 0; i < clusters; i++)
        {
            int drawn = random.NextInt(clusters);
            sum += clusterSums[drawn];
            count += clusterSizes[drawn];
        }

        return sum / count;
    }

    /// <summary>The generator of resample <paramref name="resample"/>: its own stream of <paramref name="seed"/>.</summary>
    internal static SeededRandom ForResample(ulong seed, int resample) => new(SplitMix64.Derive(seed, (ulong)resample));

    private static (double[] Sums, int[] Sizes) TotalsByCluster(ReadOnlySpan<double> values, ReadOnlySpan<int> clusterIds)
    {
        var totals = new Dictionary<int, (double Sum, int Size)>();
        for (int i = 0; i < values.Length; i++)
        {
            totals.TryGetValue(clusterIds[i], out var total);
            totals[clusterIds[i]] = (total.Sum + values[i], total.Size + 1);
        }

        int[] ids = [.. totals.Keys];
        Array.Sort(ids);
        var sums = new double[ids.Length];
        var sizes = new int[ids.Length];
        for (int j = 0; j < ids.Length; j++) (sums[j], sizes[j]) = totals[ids[j]];

        return (sums, sizes);
    }

    private static void RequireNoNaN(ReadOnlySpan<double> values, string parameterName)
    {
        foreach (double value in values)
        {
            if (double.IsNaN(value)) throw new ArgumentException("Missing (NaN) values must be filtered out first.", parameterName);
        }
    }

    private static double Sum(double[] values)
    {
        double sum = 0;
        foreach (double value in values) sum += value;
        return sum;
    }

    private static long SumOf(int[] values)
    {
        long sum = 0;
        foreach (int value in values) sum += value;
        return sum;
    }
}
