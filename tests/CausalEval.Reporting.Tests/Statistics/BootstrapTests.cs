using CausalEval.Core.Randomness;
using CausalEval.Reporting.Statistics;
using Xunit.Abstractions;

namespace CausalEval.Reporting.Tests.Statistics;

public class BootstrapTests(ITestOutputHelper output)
{
    public enum Population { StandardNormal, ScoreLike }

    [Theory]
    [InlineData(Population.StandardNormal)]
    [InlineData(Population.ScoreLike)]
    public void A_95_percent_interval_covers_the_true_mean_about_95_percent_of_the_time(Population population)
    {
        double coverage = SimulatedCoverage(population, confidence: 0.95, datasets: 400, size: 50, seed: 11);
        output.WriteLine($"{population}: 95% intervals covered the true mean in {coverage:P1} of 400 datasets");

        // Percentile intervals run slightly narrow at n = 50 (about 0.94); 400 datasets give a
        // standard error of about 0.011 on the coverage.
        Assert.InRange(coverage, 0.91, 0.98);
    }

    [Fact]
    public void The_coverage_simulation_can_tell_an_80_percent_interval_from_a_95_percent_one()
    {
        double coverage = SimulatedCoverage(Population.StandardNormal, confidence: 0.80, datasets: 400, size: 50, seed: 12);
        output.WriteLine($"80% intervals covered the true mean in {coverage:P1} of 400 datasets");

        Assert.InRange(coverage, 0.75, 0.85);
    }

    [Fact]
    public void Clustering_keeps_the_coverage_that_treating_correlated_epochs_as_independent_loses()
    {
        // 30 episodes × 4 epochs; an episode's difficulty dominates its epochs' scores (ρ ≈ 0.92,
        // so the naive interval is about half as wide as it should be and covers about 70%).
        // B = 1000 keeps this fast; the resample count is not what is under test here.
        const int Datasets = 300, Episodes = 30, Epochs = 4, Resamples = 1000;
        var random = new SeededRandom(13);
        int clusteredCovers = 0, naiveCovers = 0;
        for (int d = 0; d < Datasets; d++)
        {
            var (values, episodeIds) = CorrelatedEpochs(random, Episodes, Epochs, episodeSd: 1.0, epochSd: 0.3);
            ulong seed = (ulong)d;

            if (Bootstrap.ClusteredMeanInterval(values, episodeIds, resamples: Resamples, seed: seed).Contains(0)) clusteredCovers++;
            if (Bootstrap.MeanInterval(values, resamples: Resamples, seed: seed).Contains(0)) naiveCovers++;
        }

        output.WriteLine($"coverage: clustered {clusteredCovers / (double)Datasets:P1}, naive {naiveCovers / (double)Datasets:P1}");

        // With only 30 clusters the percentile interval runs a little narrow (about 0.93).
        Assert.InRange(clusteredCovers / (double)Datasets, 0.89, 0.98);
        Assert.True(naiveCovers / (double)Datasets < 0.80, $"naive coverage {naiveCovers / (double)Datasets}");
    }

    [Fact]
    public void Cluster_bootstrap_widens_the_interval_when_clusters_are_correlated()
    {
        var random = new SeededRandom(14);
        var (values, episodeIds) = CorrelatedEpochs(random, episodes: 100, epochs: 5, episodeSd: 1.0, epochSd: 0.2);

        var clustered = Bootstrap.ClusteredMeanInterval(values, episodeIds);
        var naive = Bootstrap.MeanInterval(values);
        output.WriteLine($"width: clustered {clustered.Width:F4}, naive {naive.Width:F4}");

        // Design effect 1 + (5 − 1)·ρ with ρ = 1 / 1.04 ≈ 0.96, so widths differ by about √4.85 ≈ 2.2.
        Assert.Equal(naive.Estimate, clustered.Estimate, 1e-12);
        Assert.True(clustered.Width > 1.7 * naive.Width, $"clustered {clustered.Width}, naive {naive.Width}");
    }

    [Fact]
    public void Cluster_bootstrap_does_not_widen_the_interval_when_clusters_are_independent()
    {
        var random = new SeededRandom(15);
        var (values, episodeIds) = CorrelatedEpochs(random, episodes: 100, epochs: 5, episodeSd: 0.0, epochSd: 1.0);

        double ratio = Bootstrap.ClusteredMeanInterval(values, episodeIds).Width / Bootstrap.MeanInterval(values).Width;

        Assert.InRange(ratio, 0.85, 1.15);
    }

    [Fact]
    public void Width_matches_the_normal_theory_interval_for_a_large_sample()
    {
        var random = new SeededRandom(16);
        double[] values = Enumerable.Range(0, 400).Select(_ => StandardNormal(random)).ToArray();
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));

        var interval = Bootstrap.MeanInterval(values);

        Assert.Equal(mean, interval.Estimate, 1e-12);
        Assert.Equal(2 * 1.959964 * sd / Math.Sqrt(values.Length), interval.Width, 0.1 * interval.Width);
        Assert.Equal(mean, (interval.Lower + interval.Upper) / 2, 0.1 * interval.Width);
    }

    [Fact]
    public void The_same_seed_gives_bit_identical_intervals_and_another_seed_does_not()
    {
        var random = new SeededRandom(17);
        double[] values = Enumerable.Range(0, 200).Select(_ => random.NextDouble()).ToArray();
        int[] episodeIds = Enumerable.Range(0, 200).Select(i => i % 37).ToArray();

        Assert.Equal(Bootstrap.MeanInterval(values, seed: 5), Bootstrap.MeanInterval(values, seed: 5));
        Assert.Equal(Bootstrap.ClusteredMeanInterval(values, episodeIds, seed: 5), Bootstrap.ClusteredMeanInterval(values, episodeIds, seed: 5));
        Assert.NotEqual(Bootstrap.MeanInterval(values, seed: 5), Bootstrap.MeanInterval(values, seed: 6));
        Assert.Equal(Bootstrap.MeanInterval(values), Bootstrap.MeanInterval(values, seed: Bootstrap.DefaultSeed));
    }

    [Fact]
    public void Matches_the_documented_algorithm_written_out_plainly()
    {
        var random = new SeededRandom(18);
        double[] values = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToArray();

        Assert.Equal(PlainReference(values, Bootstrap.DefaultResamples, seed: 3), Bootstrap.MeanInterval(values, seed: 3));
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(37, 5, false)]
    [InlineData(200, 2000, false)]
    [InlineData(1000, 7, false)]
    [InlineData(37, 6, true)]
    [InlineData(200, 2000, true)]
    public void Resamples_drawn_side_by_side_are_the_same_bits_as_one_at_a_time(int clusters, int resamples, bool sized)
    {
        var random = new SeededRandom(21);
        double[] sums = Enumerable.Range(0, clusters).Select(_ => random.NextDouble() * 3 - 1).ToArray();
        int[]? sizes = sized ? Enumerable.Range(0, clusters).Select(_ => 1 + random.NextInt(4)).ToArray() : null;

        double[] means = Bootstrap.ResampledMeans(sums, sizes, seed: 8, resamples);

        Assert.Equal(resamples, means.Length);
        for (int b = 0; b < resamples; b++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(PlainResampledMean(sums, sizes, seed: 8, b)), BitConverter.DoubleToInt64Bits(means[b]));
        }
    }

    [Fact]
    public void Unequal_cluster_sizes_match_the_documented_algorithm_written_out_plainly()
    {
        var random = new SeededRandom(22);
        double[] sums = Enumerable.Range(0, 150).Select(_ => random.NextDouble() * 4).ToArray();
        int[] sizes = Enumerable.Range(0, 150).Select(_ => 1 + random.NextInt(4)).ToArray();
        var means = Enumerable.Range(0, Bootstrap.DefaultResamples).Select(b => PlainResampledMean(sums, sizes, seed: 4, b)).Order().ToArray();
        double tail = (1 - 0.95) / 2;
        var expected = new ConfidenceInterval(sums.Sum() / sizes.Sum(), Percentile.OfSorted(means, tail), Percentile.OfSorted(means, 1 - tail));

        Assert.Equal(expected, Bootstrap.FromClusterTotals(sums, sizes, seed: 4));
    }

    [Fact]
    public void Row_order_does_not_change_the_interval()
    {
        var random = new SeededRandom(19);
        double[] values = Enumerable.Range(0, 120).Select(_ => (double)random.NextInt(3) - 1).ToArray();
        int[] episodeIds = Enumerable.Range(0, 120).Select(i => 1000 + i / 3).ToArray();
        int[] reversed = Enumerable.Range(0, 120).Reverse().ToArray();

        Assert.Equal(Bootstrap.MeanInterval(values), Bootstrap.MeanInterval(reversed.Select(i => values[i]).ToArray()));
        Assert.Equal(
            Bootstrap.ClusteredMeanInterval(values, episodeIds),
            Bootstrap.ClusteredMeanInterval(reversed.Select(i => values[i]).ToArray(), reversed.Select(i => episodeIds[i]).ToArray()));
    }

    [Fact]
    public void Unequal_cluster_sizes_resample_the_ratio_of_sums_to_counts()
    {
        // Cluster A: one value 1.0; cluster B: three values 0.0. Each resample draws two clusters:
        // AA → 2/2 = 1, AB → 1/4 (not the 1/2 an average of cluster means would give), BB → 0,
        // with probabilities 1/4, 1/2, 1/4. So the 40th and 60th percentiles both lie on the AB plateau.
        double[] values = [1, 0, 0, 0];
        int[] episodeIds = [7, 9, 9, 9];

        var interval = Bootstrap.ClusteredMeanInterval(values, episodeIds, confidence: 0.2);

        Assert.Equal(new ConfidenceInterval(0.25, 0.25, 0.25), interval);
        Assert.Equal(interval, Bootstrap.FromClusterTotals([1.0, 0.0], [1, 3], confidence: 0.2));
    }

    [Fact]
    public void Paired_difference_interval_removes_shared_episode_variation()
    {
        // Both models see the same 60 episodes, whose difficulty varies far more than the gap
        // between the models (a true difference of 0.1).
        var random = new SeededRandom(20);
        var difficulty = Enumerable.Range(0, 60).Select(_ => StandardNormal(random)).ToArray();
        double[] first = difficulty.Select(d => d + 0.1 + 0.05 * StandardNormal(random)).ToArray();
        double[] second = difficulty.Select(d => d + 0.05 * StandardNormal(random)).ToArray();

        var paired = Bootstrap.PairedMeanDifferenceInterval(first, second, []);
        var firstAlone = Bootstrap.MeanInterval(first);

        Assert.Equal(first.Average() - second.Average(), paired.Estimate, 1e-12);
        Assert.Equal(0.1, paired.Estimate, 0.04); // four standard errors of the paired mean
        Assert.False(paired.Contains(0), paired.ToString());
        Assert.True(paired.Width < firstAlone.Width / 5, $"paired {paired.Width}, one sample {firstAlone.Width}");
    }

    [Fact]
    public void Clustered_paired_difference_equals_the_clustered_interval_of_the_differences()
    {
        double[] first = [1, 0, 1, 1, 0, 1];
        double[] second = [0, 0, 1, 0, 1, 0];
        int[] episodeIds = [1, 1, 2, 2, 3, 3];
        double[] differences = [1, 0, 0, 1, -1, 1];

        Assert.Equal(
            Bootstrap.ClusteredMeanInterval(differences, episodeIds),
            Bootstrap.PairedMeanDifferenceInterval(first, second, episodeIds));
    }

    [Fact]
    public void Identical_samples_give_a_zero_difference_with_a_zero_width_interval()
    {
        double[] scores = [0.5, -1, 1, 0.25];

        Assert.Equal(new ConfidenceInterval(0, 0, 0), Bootstrap.PairedMeanDifferenceInterval(scores, scores, []));
    }

    [Fact]
    public void Degenerate_inputs_give_undefined_or_point_intervals()
    {
        Assert.Equal(ConfidenceInterval.Undefined, Bootstrap.MeanInterval([]));
        Assert.Equal(new ConfidenceInterval(0.7, 0.7, 0.7), Bootstrap.MeanInterval([0.7]));
        // One episode: the bootstrap cannot see between-episode variation it never sampled.
        Assert.Equal(new ConfidenceInterval(0.5, 0.5, 0.5), Bootstrap.ClusteredMeanInterval([0.0, 1.0], [4, 4]));
    }

    [Fact]
    public void Invalid_inputs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Bootstrap.MeanInterval([1, double.NaN]));
        Assert.Throws<ArgumentException>(() => Bootstrap.ClusteredMeanInterval([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => Bootstrap.PairedMeanDifferenceInterval([1, 2], [1], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bootstrap.MeanInterval([1, 2], confidence: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bootstrap.MeanInterval([1, 2], resamples: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bootstrap.FromClusterTotals([1.0], [0]));
        Assert.Throws<ArgumentException>(() => Bootstrap.FromClusterTotals([1.0, double.NaN], null));
    }

    private static double SimulatedCoverage(Population population, double confidence, int datasets, int size, ulong seed)
    {
        var random = new SeededRandom(seed);
        double trueMean = population == Population.StandardNormal ? 0 : ScoreLikeMean;
        int covered = 0;
        var values = new double[size];
        for (int d = 0; d < datasets; d++)
        {
            for (int i = 0; i < size; i++)
            {
                values[i] = population == Population.StandardNormal ? StandardNormal(random) : ScoreLike(random);
            }

            if (Bootstrap.MeanInterval(values, confidence, seed: (ulong)d).Contains(trueMean)) covered++;
        }

        return covered / (double)datasets;
    }

    /// <summary>Like normalized scores: −1 (worst action) 20%, 0 (no effect) 30%, 1 (optimal) 50%.</summary>
    private static double ScoreLike(SeededRandom random)
    {
        double u = random.NextDouble();
        return u < 0.2 ? -1 : u < 0.5 ? 0 : 1;
    }

    private const double ScoreLikeMean = -0.2 + 0.5;

    private static (double[] Values, int[] EpisodeIds) CorrelatedEpochs(
        SeededRandom random, int episodes, int epochs, double episodeSd, double epochSd)
    {
        var values = new double[episodes * epochs];
        var episodeIds = new int[values.Length];
        for (int e = 0; e < episodes; e++)
        {
            double episodeEffect = episodeSd * StandardNormal(random);
            for (int k = 0; k < epochs; k++)
            {
                values[e * epochs + k] = episodeEffect + epochSd * StandardNormal(random);
                episodeIds[e * epochs + k] = e;
            }
        }

        return (values, episodeIds);
    }

    /// <summary>Box–Muller; one of the pair is discarded for simplicity.</summary>
    private static double StandardNormal(SeededRandom random)
    {
        double u1 = 1 - random.NextDouble(); // (0, 1], so the log is finite
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Resample b written out plainly: stream b, one draw and one addition per cluster in draw order.</summary>
    private static double PlainResampledMean(double[] sums, int[]? sizes, ulong seed, int b)
    {
        var random = new SeededRandom(SplitMix64.Derive(seed, (ulong)b));
        double sum = 0;
        long count = 0;
        for (int i = 0; i < sums.Length; i++)
        {
            int drawn = random.NextInt(sums.Length);
            sum += sums[drawn];
            count += sizes?[drawn] ?? 1;
        }

        return sizes is null ? sum / sums.Length : sum / count;
    }

    /// <summary>The documented algorithm written out plainly: sorted values, stream b for resample b.</summary>
    private static ConfidenceInterval PlainReference(double[] values, int resamples, ulong seed)
    {
        double[] sorted = [.. values.Order()];
        var means = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            var random = new SeededRandom(SplitMix64.Derive(seed, (ulong)b));
            double sum = 0;
            for (int i = 0; i < sorted.Length; i++) sum += sorted[random.NextInt(sorted.Length)];
            means[b] = sum / sorted.Length;
        }

        Array.Sort(means);
        double tail = (1 - 0.95) / 2; // as the implementation computes it, 0.025 plus one rounding
        return new ConfidenceInterval(sorted.Sum() / sorted.Length, Percentile.OfSorted(means, tail), Percentile.OfSorted(means, 1 - tail));
    }
}
