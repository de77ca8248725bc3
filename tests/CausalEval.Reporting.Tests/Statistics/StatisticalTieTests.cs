using CausalEval.Core.Randomness;
using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class StatisticalTieTests
{
    [Theory]
    [InlineData(-0.02, 0.05, true)]
    [InlineData(0.0, 0.05, true)] // a bound exactly at zero does not exclude it
    [InlineData(-0.05, 0.0, true)]
    [InlineData(0.01, 0.05, false)]
    [InlineData(-0.05, -0.01, false)]
    public void Paired_entries_are_tied_exactly_when_the_difference_interval_contains_zero(double lower, double upper, bool tied)
    {
        Assert.Equal(tied, StatisticalTie.ByPairedDifference(new ConfidenceInterval((lower + upper) / 2, lower, upper)));
    }

    [Theory]
    [InlineData(0.50, 0.60, 0.55, 0.70, true)] // overlapping
    [InlineData(0.50, 0.60, 0.60, 0.70, true)] // touching
    [InlineData(0.55, 0.70, 0.50, 0.60, true)] // order does not matter
    [InlineData(0.50, 0.60, 0.61, 0.70, false)]
    [InlineData(0.61, 0.70, 0.50, 0.60, false)]
    public void Unpaired_entries_are_tied_exactly_when_their_intervals_overlap(
        double firstLower, double firstUpper, double secondLower, double secondUpper, bool tied)
    {
        var first = new ConfidenceInterval((firstLower + firstUpper) / 2, firstLower, firstUpper);
        var second = new ConfidenceInterval((secondLower + secondUpper) / 2, secondLower, secondUpper);

        Assert.Equal(tied, StatisticalTie.ByIntervalOverlap(first, second));
    }

    [Fact]
    public void Nothing_to_compare_counts_as_a_tie()
    {
        var some = new ConfidenceInterval(0.5, 0.4, 0.6);

        Assert.True(StatisticalTie.ByPairedDifference(ConfidenceInterval.Undefined));
        Assert.True(StatisticalTie.ByIntervalOverlap(ConfidenceInterval.Undefined, some));
        Assert.True(StatisticalTie.ByIntervalOverlap(some, ConfidenceInterval.Undefined));
    }

    [Fact]
    public void Pairing_separates_close_models_that_overlapping_intervals_would_call_tied()
    {
        // Two models on the same 80 episodes: episode difficulty varies a lot, the second model
        // is better by 0.1 on every episode, with a little noise of its own.
        var random = new SeededRandom(21);
        double[] difficulty = Enumerable.Range(0, 80).Select(_ => 2 * random.NextDouble() - 1).ToArray();
        double[] first = difficulty.Select(d => d + 0.05 * (random.NextDouble() - 0.5)).ToArray();
        double[] second = difficulty.Select(d => d + 0.1 + 0.05 * (random.NextDouble() - 0.5)).ToArray();

        bool tiedByOverlap = StatisticalTie.ByIntervalOverlap(Bootstrap.MeanInterval(first), Bootstrap.MeanInterval(second));
        bool tiedByPairing = StatisticalTie.ByPairedDifference(Bootstrap.PairedMeanDifferenceInterval(first, second, []));

        Assert.True(tiedByOverlap);
        Assert.False(tiedByPairing);
    }
}
