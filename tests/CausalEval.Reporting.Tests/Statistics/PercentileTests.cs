using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class PercentileTests
{
    // h = (n − 1)·fraction; interpolate between the order statistics around h.
    [Theory]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0.5, 2.5)] // h = 1.5
    [InlineData(new[] { 1.0, 2, 3, 4 }, 0.95, 3.85)] // h = 2.85 → 3 + 0.85
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 0.4, 29.0)] // h = 1.6 → 20 + 0.6·15
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 0.5, 35.0)] // an odd count: the middle value
    [InlineData(new[] { 40.0, 15, 50, 20, 35 }, 0.95, 48.0)] // unsorted input; h = 3.8 → 40 + 0.8·10
    [InlineData(new[] { 7.0 }, 0.95, 7.0)]
    public void Interpolates_linearly_between_order_statistics(double[] values, double fraction, double expected)
    {
        Assert.Equal(expected, Percentile.Of(values, fraction), 1e-12);
    }

    [Fact]
    public void The_extremes_are_the_minimum_and_maximum()
    {
        double[] values = [3, -1, 8, 2];

        Assert.Equal(-1, Percentile.Of(values, 0));
        Assert.Equal(8, Percentile.Of(values, 1));
    }

    [Fact]
    public void Input_is_left_unsorted()
    {
        double[] values = [3, 1, 2];

        Percentile.Of(values, 0.5);

        Assert.Equal([3.0, 1, 2], values);
    }

    [Fact]
    public void No_values_give_NaN()
    {
        Assert.True(double.IsNaN(Percentile.Of([], 0.5)));
    }

    [Fact]
    public void NaN_values_and_fractions_outside_the_unit_interval_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Percentile.Of([1, double.NaN], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentile.Of([1, 2], 95));
    }
}
