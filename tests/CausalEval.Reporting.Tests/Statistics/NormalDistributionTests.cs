using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Tests.Statistics;

public class NormalDistributionTests
{
    // Published percentage points of N(0, 1) (e.g. R's qnorm, Wichura 1988).
    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.995, 2.575829303548901)]
    [InlineData(0.95, 1.644853626951472)]
    [InlineData(0.9, 1.281551565544601)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.3, -0.524400512708041)]
    [InlineData(1e-10, -6.361340902404056)]
    public void Quantile_matches_published_values(double probability, double expected)
    {
        Assert.Equal(expected, NormalDistribution.Quantile(probability), 1e-12);
    }

    // Powers of two, so that 1 − p is exact and only the function is tested.
    [Theory]
    [InlineData(0.25)]
    [InlineData(0.125)]
    [InlineData(0.0078125)]
    [InlineData(9.313225746154785e-10)] // 2^-30, in the far tail
    [InlineData(1.0 / 1048576 / 1048576 / 1024)] // 2^-50
    public void Quantile_is_antisymmetric_about_one_half(double probability)
    {
        Assert.Equal(-NormalDistribution.Quantile(probability), NormalDistribution.Quantile(1 - probability), 1e-9);
    }

    [Fact]
    public void Quantile_of_zero_and_one_are_the_infinities()
    {
        Assert.Equal(double.NegativeInfinity, NormalDistribution.Quantile(0));
        Assert.Equal(double.PositiveInfinity, NormalDistribution.Quantile(1));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Quantile_rejects_values_that_are_not_probabilities(double probability)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.Quantile(probability));
    }
}

public class NormalUpperTailTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.1)]
    [InlineData(0.025)]
    [InlineData(1e-3)]
    [InlineData(1e-6)]
    [InlineData(0.9)]
    public void UpperTail_inverts_the_quantile(double tail)
    {
        var z = NormalDistribution.Quantile(1 - tail);

        Assert.InRange(NormalDistribution.UpperTail(z) / tail, 1 - 2e-6, 1 + 2e-6);
    }
}
