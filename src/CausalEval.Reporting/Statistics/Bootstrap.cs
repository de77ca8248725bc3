using System.Runtime.CompilerServices;
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
        var resampledMeans = ResampledMeans(resampledTotals, resampledSizes, seed, resamples);

        Array.Sort(resampledMeans);
        double tail = (1 - confidence) / 2;
        return new ConfidenceInterval(
            observedMean,
            Percentile.OfSorted(resampledMeans, tail),
            Percentile.OfSorted(resampledMeans, 1 - tail));
    }

    /// <summary>Resamples drawn side by side: this many sums are added in one loop, each in its own draw order.</summary>
    private const int Lanes = 4;

    /// <summary>
    /// Every resample's mean: resample b draws <c>clusters</c> indices from its own stream (<see cref="ForResample"/>) and
    /// adds the drawn totals in draw order, Σ sums / clusters (or / Σ sizes). Each resample's additions stay one chain
    /// in that order, so the means are the same bits as one resample at a time; <see cref="Lanes"/> chains are added in
    /// one loop so that they overlap instead of each waiting on its previous addition, and the indices come a
    /// resample at a time from <see cref="SeededRandom.NextInts"/>.
    /// </summary>
    /// <param name="clusterSizes">Null when every entry of <paramref name="clusterSums"/> counts as one.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first interval
    internal static double[] ResampledMeans(double[] clusterSums, int[]? clusterSizes, ulong seed, int resamples)
    {
        int clusters = clusterSums.Length;
        var means = new double[resamples];
        var drawn = new int[Lanes * clusters];
        ReadOnlySpan<double> sums = clusterSums;
        for (int first = 0; first < resamples; first += Lanes)
        {
            int lanes = Math.Min(Lanes, resamples - first);
            for (int k = 0; k < lanes; k++) ForResample(seed, first + k).NextInts(clusters, drawn.AsSpan(k * clusters, clusters));
            if (lanes < Lanes || clusterSizes is not null)
            {
                for (int k = 0; k < lanes; k++) means[first + k] = OneMean(sums, clusterSizes, drawn.AsSpan(k * clusters, clusters));
                continue;
            }
            ReadOnlySpan<int> d0 = drawn.AsSpan(0, clusters), d1 = drawn.AsSpan(clusters, clusters),
                d2 = drawn.AsSpan(2 * clusters, clusters), d3 = drawn.AsSpan(3 * clusters, clusters);
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int i = 0; i < clusters; i++)
            {
                s0 += sums[d0[i]];
                s1 += sums[d1[i]];
                s2 += sums[d2[i]];
                s3 += sums[d3[i]];
            }
            means[first] = s0 / clusters;
            means[first + 1] = s1 / clusters;
            means[first + 2] = s2 / clusters;
            means[first + 3] = s3 / clusters;
        }
        return means;
    }

    /// <summary>One resample's mean from its drawn cluster indices, added in draw order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double OneMean(ReadOnlySpan<double> clusterSums, int[]? clusterSizes, ReadOnlySpan<int> drawn)
    {
        double sum = 0;
        if (clusterSizes is null)
        {
            foreach (int i in drawn) sum += clusterSums[i];
            return sum / drawn.Length;
        }

        long count = 0;
        foreach (int i in drawn)
        {
            sum += clusterSums[i];
            count += clusterSizes[i];
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
