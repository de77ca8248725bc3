using CausalEval.Core.Randomness;
using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Statistics;
using CausalEval.Reporting.Tests.Support;
using Xunit.Abstractions;

namespace CausalEval.Reporting.Tests.Analysis;

/// <summary>With epochs > 1 the episode is the unit of every interval and paired test; with one epoch nothing changes.</summary>
public class ClusteredIntervalTests(ITestOutputHelper output)
{
    private static IEnumerable<TrialSpec> Optimal(string model, string pattern, int epoch = 1)
        => pattern.Select((c, e) => new TrialSpec { Task = "t", Episode = $"e{e:00}", Model = model, Epoch = epoch, Normalized = c == '1' ? 1 : 0, OptimalAction = c == '1' ? 1 : 0 });

    [Fact]
    public void OptimalRate_IsWilsonWithOneEpoch_AndTheEpisodeBootstrapWithTwo()
    {
        var once = Assert.Single(LeaderboardAnalysis.Build(Loaded.Data([.. Optimal("m", "1101")]), task: null));
        var twice = Assert.Single(LeaderboardAnalysis.Build(Loaded.Data([.. Optimal("m", "1101"), .. Optimal("m", "1100", epoch: 2)]), task: null));

        Assert.Equal(WilsonInterval.Compute(3, 4), once.OptimalRate);
        // Episode totals in (task, episode) order: e00 2 of 2, e01 2 of 2, e02 0 of 2, e03 1 of 2.
        Assert.Equal(Bootstrap.FromClusterTotals([2, 2, 0, 1], [2, 2, 2, 2]), twice.OptimalRate);
        Assert.Equal(5 / 8.0, twice.OptimalRate.Estimate, 12);
    }

    [Fact]
    public void Comparisons_UseMcNemarWithOneEpoch_AndTheSignFlipTestOnEpisodeRatesWithRepeats()
    {
        var once = Assert.Single(Loaded.Model([.. Optimal("a", "1111111100"), .. Optimal("b", "0100000110")]).Comparisons);
        var twice = Assert.Single(Loaded.Model([.. Optimal("a", "1111111100"), .. Optimal("a", "1111111000", epoch: 2),
            .. Optimal("b", "0100000110"), .. Optimal("b", "0000000110", epoch: 2)]).Comparisons);

        Assert.Equal(ComparisonRow.McNemar, once.Test);
        Assert.Equal(0.125, once.PValue, 12);
        // Per-episode rates a: 1 1 1 1 1 1 1 ½ 0 0, b: 0 ½ 0 0 0 0 0 1 1 0 → differences 1, ½, 1, 1, 1, 1, 1, −½, −1, 0.
        Assert.Equal(ComparisonRow.SignFlip, twice.Test);
        Assert.Equal(SignFlipTest.TwoSidedPValue([1, 0.5, 1, 1, 1, 1, 1, -0.5, -1, 0]), twice.PValue, 12);
        Assert.Equal(20L, twice.Pairs); // the trial counts stay in the table
    }

    /// <summary>
    /// Episodes whose difficulty dominates their epochs: each episode's chance of an optimal action is 0.05 or 0.95
    /// (equally likely), so the true rate is 0.5 and the within-episode correlation of outcomes is 0.81.
    /// </summary>
    private static (double[] Sums, int[] Sizes, long Successes) CorrelatedEpisodes(SeededRandom random, int episodes, int epochs)
    {
        var sums = new double[episodes];
        var sizes = new int[episodes];
        long successes = 0;
        for (var e = 0; e < episodes; e++)
        {
            var p = random.NextDouble() < 0.5 ? 0.05 : 0.95;
            for (var k = 0; k < epochs; k++)
            {
                sums[e] += random.NextDouble() < p ? 1 : 0;
            }
            sizes[e] = epochs;
            successes += (long)sums[e];
        }
        return (sums, sizes, successes);
    }

    [Fact]
    public void OptimalRateInterval_WithStronglyCorrelatedEpochs_CoversTheTrueRate93To97Percent()
    {
        const int Datasets = 1000, Episodes = 100, Epochs = 10;
        var random = new SeededRandom(2026);
        int clustered = 0, wilson = 0;
        for (var d = 0; d < Datasets; d++)
        {
            var (sums, sizes, successes) = CorrelatedEpisodes(random, Episodes, Epochs);
            // The leaderboard's call for a clustered row (default resamples and seed).
            clustered += Bootstrap.FromClusterTotals(sums, sizes).Contains(0.5) ? 1 : 0;
            wilson += WilsonInterval.Compute(successes, Episodes * Epochs).Contains(0.5) ? 1 : 0;
        }
        output.WriteLine($"coverage over {Datasets} datasets: episode bootstrap {clustered / (double)Datasets:P1}, Wilson over trials {wilson / (double)Datasets:P1}");

        Assert.InRange(clustered / (double)Datasets, 0.93, 0.97);
        Assert.True(wilson / (double)Datasets < 0.60, $"the trial-level Wilson interval should under-cover here (got {wilson / (double)Datasets:P1})");
    }

    [Fact]
    public void PairedTest_WithEpisodeLevelDifferencesAveragingZero_RejectsAbout5Percent_WhereTrialLevelMcNemarDoesNot()
    {
        // Null hypothesis true on average, but each episode favours one model strongly (0.9 vs 0.1, either way):
        // trial pairs of an episode are not independent, so McNemar over trials rejects far too often.
        const int Datasets = 1000, Episodes = 60, Epochs = 8;
        var random = new SeededRandom(7);
        int signFlip = 0, mcNemar = 0;
        for (var d = 0; d < Datasets; d++)
        {
            var differences = new double[Episodes];
            long onlyA = 0, onlyB = 0;
            for (var e = 0; e < Episodes; e++)
            {
                var aFavoured = random.NextDouble() < 0.5;
                double pa = aFavoured ? 0.9 : 0.1, pb = aFavoured ? 0.1 : 0.9;
                int a = 0, b = 0;
                for (var k = 0; k < Epochs; k++)
                {
                    bool x = random.NextDouble() < pa, y = random.NextDouble() < pb;
                    a += x ? 1 : 0;
                    b += y ? 1 : 0;
                    onlyA += x && !y ? 1 : 0;
                    onlyB += y && !x ? 1 : 0;
                }
                differences[e] = (a - b) / (double)Epochs;
            }
            signFlip += SignFlipTest.TwoSidedPValue(differences) < 0.05 ? 1 : 0;
            mcNemar += McNemarTest.ExactTwoSidedPValue(onlyA, onlyB) < 0.05 ? 1 : 0;
        }
        output.WriteLine($"rejections at 0.05: sign-flip over episodes {signFlip / (double)Datasets:P1}, McNemar over trials {mcNemar / (double)Datasets:P1}");

        Assert.InRange(signFlip / (double)Datasets, 0.03, 0.07);
        Assert.True(mcNemar / (double)Datasets > 0.3, $"McNemar over correlated trial pairs should reject far too often (got {mcNemar / (double)Datasets:P1})");
    }
}
